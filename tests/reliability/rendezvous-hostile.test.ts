// Our rendezvous server under the treatment the engine gets: clients that do not read their reply,
// a flood from one IP, requests built to overflow the stack. It keeps answering well-behaved
// clients and holds nothing once they are gone.
//
// Already covered, not repeated (tests/rendezvous): 10,000 silent connections at once, each timed
// out while others are served (cli.test.ts); slow writers whose trickle does not extend the request
// deadline, oversize lines answered line_too_long, clients that reset mid-request, clients that keep
// sending after their reply (protocol.test.ts); the block and its sliding window (rate-limit.test.ts).

import { afterEach, expect, it } from 'vitest';
import { openClients } from '../helpers/hostile.ts';
import { exchange, register, requestJson, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { waitFor } from '../helpers/peers.ts';

let server: TestServer;
afterEach(async () => {
  await server?.close();
});

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
