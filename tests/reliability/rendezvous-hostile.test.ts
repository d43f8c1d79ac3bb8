// Our rendezvous server under the treatment the engine gets: clients that do not read their reply,
// a flood from one IP and floods of silent connections from many, requests built to overflow the
// stack. It keeps answering well-behaved clients and holds nothing once they are gone. Attackers
// connect from 127.0.0.10 and up, the well-behaved client from 127.0.0.2.
//
// Already covered, not repeated (tests/rendezvous): 10,000 silent connections at once, each timed
// out while others are served (cli.test.ts); slow writers whose trickle does not extend the request
// deadline, oversize lines answered line_too_long, clients that reset mid-request, clients that keep
// sending after their reply (protocol.test.ts); the block and its sliding window (rate-limit.test.ts).

import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { attackerAddress, openClients } from '../helpers/hostile.ts';
import { exchange, register, requestJson, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { waitFor } from '../helpers/peers.ts';

let server: TestServer;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
});

const GOOD_CLIENT = '127.0.0.2';

const DISCOVER = '{"type": "DISCOVER"}\n';

it('drops clients that never read their reply nor close once the linger ends, serving others meanwhile', async () => {
  server = await startTestServer({ lingerMs: 500 });
  // 500 records: a DISCOVER reply of about 50 KB each.
  for (let i = 0; i < 500; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => register(server.port, `peer-${i + j}`, 'CIC', 10_000 + i + j)));
  }
  const slow = await openClients(server.port, 100, {
    onConnect: (socket) => {
      socket.write(DISCOVER);
      socket.pause();
    },
  });
  const answered = () => server.logs.filter((l) => l.includes('DISCOVER * 127.0.0.1 -> OK 500 peer(s)')).length;
  await waitFor('all 100 slow readers answered', () => answered() >= 100);
  const listed = (await requestJson(server.port, { type: 'DISCOVER' })).peers as unknown[];
  expect(listed).toHaveLength(500);
  // They still have not read a byte nor closed: the server let go of them on its own.
  await waitFor('the slow readers dropped', () => server.connections === 0);
  expect(slow.every((c) => c.received === 0 && !c.isClosed)).toBe(true);
  for (const c of slow) c.socket.resume();
  await Promise.all(slow.map((c) => c.closed));
  expect((await exchange(server.port, DISCOVER)).reply).toContain('"name": "peer-499"');
});

it('under a flood of 1,000 connections from one IP answers exactly the allowed 50, drops one and blocks the rest', async () => {
  let now = Date.UTC(2026, 10, 24, 12);
  server = await startTestServer({ maxRequests: 50, now: () => now });
  await register(server.port, 'alice', 'CIC', 5000);
  const flood = await openClients(server.port, 1000, { onConnect: (socket) => socket.write(DISCOVER) });
  await Promise.all(flood.map((c) => c.closed));
  const served = flood.filter((c) => c.text.startsWith('{"status": "OK"'));
  const dropped = flood.filter((c) => c.received === 0);
  const blocked = flood.filter((c) => c.text.includes('has been blocked due to excessive login attempts (limit: 50)'));
  expect([served.length, dropped.length, blocked.length]).toEqual([49, 1, 950]);
  await waitFor('nothing held', () => server.connections === 0);
  expect(server.logs.filter((l) => l.includes('exceeded 50 connections per window'))).toHaveLength(1);

  now += 61_000;
  expect((await exchange(server.port, DISCOVER)).reply).toContain('"name": "alice"');
});

it('answers requests nested deeply enough to overflow a recursive reader as unknown commands', async () => {
  server = await startTestServer();
  await register(server.port, 'alice', 'CIC', 5000);
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  for (const field of ['name', 'port', 'ttl', 'namespace']) {
    const line = `{"type": "REGISTER", "name": "bob", "namespace": "CIC", "port": 5001, "${field}": ${deep(15_000)}}\n`;
    expect((await exchange(server.port, line)).reply).toBe('{"status": "ERROR", "message": "Unknown command"}\n');
  }
  const unregister = `{"type": "UNREGISTER", "namespace": "CIC", "port": ${deep(15_000)}}\n`;
  expect((await exchange(server.port, unregister)).reply).toBe('{"status": "ERROR", "message": "Unknown command"}\n');
  // Nothing failed inside the server (a stack overflow would be logged at ERROR, with its stack).
  expect(server.logs.filter((l) => l.includes('ERROR [Rendezvous]'))).toEqual([]);
  expect((await requestJson(server.port, { type: 'DISCOVER' })).peers).toEqual([expect.objectContaining({ name: 'alice' })]);
});

it('with its connection cap held by silent clients from 8 addresses, still answers a client from 127.0.0.2 and holds no more than the cap', async () => {
  server = await startTestServer({ maxConnections: 200, requestTimeoutMs: 3_000 });
  const flood = await openClients(server.port, 400, { from: attackerAddress(8) });
  for (const c of flood) sockets.push(c.socket);
  await waitFor('200 let go', () => flood.filter((c) => c.isClosed).length === 200);
  expect(server.connections).toBe(200);
  const registered = JSON.parse((await exchange(server.port, '{"type": "REGISTER", "name": "alice", "namespace": "CIC", "port": 5000}\n', { from: GOOD_CLIENT })).reply) as Record<string, unknown>;
  expect(registered).toMatchObject({ status: 'OK', ip: GOOD_CLIENT });
  expect((await exchange(server.port, DISCOVER, { from: GOOD_CLIENT })).reply).toContain('"name": "alice"');
  // Each answer took the place of a silent connection: the cap holds, and the ones let go got nothing.
  await waitFor('the cap holds', () => server.connections <= 200);
  expect(flood.filter((c) => c.isClosed && c.received > 0)).toEqual([]);
  const evictions = server.logs.filter((l) => l.includes('connections open: closed'));
  expect(evictions[0]).toMatch(/ WARN +\[Rendezvous\] 200 connections open: closed silent 127\.0\.0\.1\d:\d+ to make room for 127\.0\.0\.1\d:\d+$/);
  expect(evictions.length).toBeLessThan(10);
  // The request deadline still applies to the ones held.
  const held = flood.filter((c) => !c.isClosed);
  await Promise.all(held.map((c) => c.closed));
  expect(held.every((c) => c.text === '{"status": "ERROR", "message": "Timeout: no data received, closing connection"}\n')).toBe(true);
  await waitFor('nothing held', () => server.connections === 0);
});

it('while 32 addresses reopen silent connections as fast as they are closed, answers every request from 127.0.0.2', async () => {
  server = await startTestServer({ maxConnections: 100 });
  let opened = 0;
  let stopped = false;
  const from = attackerAddress(32);
  const one = () => {
    const socket = connect({ host: '127.0.0.1', port: server.port, localAddress: from(opened++) });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => !stopped && opened < 20_000 && one());
  };
  for (let i = 0; i < 150; i++) one();
  await waitFor('the flood under way', () => opened >= 500);
  for (let i = 0; i < 10; i++) {
    const reply = JSON.parse((await exchange(server.port, `{"type": "REGISTER", "name": "good${i}", "namespace": "CIC", "port": ${5000 + i}}\n`, { from: GOOD_CLIENT })).reply) as Record<string, unknown>;
    expect(reply).toMatchObject({ status: 'OK', ip: GOOD_CLIENT, port: 5000 + i });
    // At most one over: a connection let go is counted until its close event, a turn later.
    expect(server.connections).toBeLessThanOrEqual(101);
  }
  expect(opened).toBeGreaterThan(500);
  stopped = true;
  for (const s of sockets) s.destroy();
  expect(server.registrations).toBe(10);
  await waitFor('nothing held', () => server.connections === 0);
});
