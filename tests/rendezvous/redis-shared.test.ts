// Two server instances on one real redis-server answer as one server: what is registered,
// removed or expired through one is seen through the other, the per-IP rate limit counts the
// connections to both, and two engines registered through different instances chat. When Redis
// goes away every request gets a clear ERROR, and the instances recover by themselves.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { exchange, request, requestJson, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { startEngine, stopEngines, waitFor } from '../helpers/peers.ts';
import type { RendezvousServerOptions } from '../../src-main/rendezvous-server/server.ts';

let redis: TestRedis;
let keys = 0;
const servers: TestServer[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());
afterEach(async () => {
  await stopEngines();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Instances A and B on the same keys, fresh for each test. */
async function twoInstances(options: RendezvousServerOptions = {}): Promise<[TestServer, TestServer]> {
  const shared = { redis: { url: redis.url, prefix: `shared${++keys}:` }, ...options };
  const pair = await Promise.all([startTestServer(shared), startTestServer(shared)]);
  servers.push(...pair);
  return pair;
}

const ERROR = (message: string) => `{"status": "ERROR", "message": "${message}"}\n`;
const send = (port: number, body: object, from: string) => exchange(port, JSON.stringify(body) + '\n', { from }).then((e) => e.reply);
const registerFrom = (port: number, from: string, name: string, ttl = 7200) =>
  send(port, { type: 'REGISTER', namespace: 'CIC', name, port: 5000, ttl }, from);
const names = async (port: number, from: string) =>
  ((JSON.parse(await send(port, { type: 'DISCOVER', namespace: 'CIC' }, from)).peers ?? []) as { name: string }[]).map((p) => p.name);

it('discovers through B a peer registered through A, with the same bytes A answers', async () => {
  const [a, b] = await twoInstances();
  expect(await registerFrom(a.port, '127.0.0.2', 'alice')).toBe('{"status": "OK", "ttl": 7200, "ip": "127.0.0.2", "port": 5000}\n');
  const throughB = await send(b.port, { type: 'DISCOVER' }, '127.0.0.2');
  expect(throughB).toBe(
    '{"status": "OK", "peers": [{"ip": "127.0.0.2", "port": 5000, "name": "alice", "namespace": "CIC", "ttl": 7200, "expires_in": 7199}]}\n',
  );
  expect(await send(a.port, { type: 'DISCOVER' }, '127.0.0.2')).toBe(throughB);
  // B knows the IP holds a live record although it never saw its REGISTER.
  expect(await send(b.port, { type: 'DISCOVER' }, '127.0.0.3')).toBe(ERROR('peer_not_registered'));
});

it('removes through A what an UNREGISTER through B removed', async () => {
  const [a, b] = await twoInstances();
  await registerFrom(a.port, '127.0.0.2', 'alice');
  await registerFrom(a.port, '127.0.0.3', 'bob');
  expect(await names(a.port, '127.0.0.3')).toEqual(['alice', 'bob']);
  expect(await send(b.port, { type: 'UNREGISTER', namespace: 'CIC', name: 'alice' }, '127.0.0.2')).toBe('{"status": "OK"}\n');
  expect(await names(a.port, '127.0.0.3')).toEqual(['bob']);
  expect(await send(a.port, { type: 'DISCOVER' }, '127.0.0.2')).toBe(ERROR('peer_not_registered'));
  expect(await send(a.port, { type: 'UNREGISTER', namespace: 'CIC' }, '127.0.0.2')).toBe(ERROR('peer_not_registered'));
});

it('lets a record expire for both instances at once', async () => {
  const [a, b] = await twoInstances();
  await registerFrom(a.port, '127.0.0.2', 'keeper');
  await registerFrom(b.port, '127.0.0.3', 'brief', 1);
  expect(await names(a.port, '127.0.0.2')).toEqual(['keeper', 'brief']);
  await new Promise((r) => setTimeout(r, 1100));
  expect(await names(a.port, '127.0.0.2')).toEqual(['keeper']);
  expect(await names(b.port, '127.0.0.2')).toEqual(['keeper']);
  expect(await send(a.port, { type: 'DISCOVER' }, '127.0.0.3')).toBe(ERROR('peer_not_registered'));
  expect(await send(b.port, { type: 'DISCOVER' }, '127.0.0.3')).toBe(ERROR('peer_not_registered'));
});

it('sweeps what expired out of the shared indexes, so that they do not grow', async () => {
  const [a, b] = await twoInstances({ sweepIntervalMs: 200 });
  await registerFrom(a.port, '127.0.0.2', 'keeper');
  for (let i = 0; i < 20; i++) await registerFrom(b.port, '127.0.0.3', `brief-${i}`, 1);
  await waitFor('swept on both', () => a.registrations === 1 && b.registrations === 1, 5_000);
  expect(await names(b.port, '127.0.0.2')).toEqual(['keeper']);
});

it('blocks an address on both instances after 30 connections to A and 21 to B', async () => {
  const [a, b] = await twoInstances({ maxRequests: 50 });
  const flood = (port: number) => exchange(port, '{"type": "DISCOVER"}\n', { from: '127.0.0.10' });
  for (let i = 0; i < 30; i++) expect((await flood(a.port)).reply).toBe(ERROR('peer_not_registered'));
  for (let i = 0; i < 20; i++) expect((await flood(b.port)).reply).toBe(ERROR('peer_not_registered'));
  // The 51st connection is closed without a reply, and from then on both answer the block.
  expect((await flood(b.port)).reply).toBe('');
  for (const port of [a.port, b.port]) {
    const attempt = await flood(port);
    expect(attempt.reply).toBe(
      `{"status": "ERROR", "message": "Connection from 127.0.0.10:${attempt.localPort} has been blocked due to excessive ` +
        'login attempts (limit: 50). The block will be lifted in 60 seconds."}\n',
    );
  }
  // Another address is not affected.
  expect(await send(a.port, { type: 'DISCOVER' }, '127.0.0.2')).toBe(ERROR('peer_not_registered'));
});

it('lets two engines chat, each registered through a different instance', async () => {
  const [a, b] = await twoInstances();
  const alice = await startEngine(a.port, 'alice', 'CIC');
  const bob = await startEngine(b.port, 'bob', 'CIC');
  await waitFor('connected', () => alice.peer('bob@CIC')?.state === 'open' && bob.peer('alice@CIC')?.state === 'open');
  const sent = alice.engine.sendDirect('bob@CIC', 'oi bob, pelo outro servidor');
  await waitFor('delivered', () => alice.deliveries.some((d) => d.msgId === sent.msgId && d.state === 'delivered'));
  expect(bob.messages).toEqual([expect.objectContaining({ kind: 'dm', from: 'alice@CIC', text: 'oi bob, pelo outro servidor' })]);
  // Each instance answers DISCOVER with both, wherever they registered.
  for (const port of [a.port, b.port]) {
    const { peers } = (await requestJson(port, { type: 'DISCOVER', namespace: 'CIC' })) as { peers: { name: string }[] };
    expect(peers.map((p) => p.name).sort()).toEqual(['alice', 'bob']);
  }
});

it('answers every request with a clear ERROR while Redis is down, logs once a second, and recovers by itself', async () => {
  const [a, b] = await twoInstances();
  const unavailable = ERROR('registry_unavailable');
  const replies: string[] = [];
  let stop = false;
  // Clients keep asking both instances throughout, as a class would, each pausing 5 ms between requests.
  const until = Date.now() + 40_000;
  const load = Promise.all(
    Array.from({ length: 4 }, async (_, i) => {
      for (let n = 0; !stop && Date.now() < until; n++) {
        const port = (i + n) % 2 ? a.port : b.port;
        const body = n % 2 ? { type: 'DISCOVER' } : { type: 'REGISTER', namespace: 'CIC', name: `load-${i}`, port: 6000 + i };
        replies.push(await request(port, body));
        await new Promise((r) => setTimeout(r, 5));
      }
    }),
  );
  await waitFor('load served', () => replies.filter((r) => r.startsWith('{"status": "OK"')).length >= 20);

  await redis.kill();
  const killedAt = replies.length;
  const killedAtMs = performance.now();
  await waitFor('answered unavailable', () => replies.slice(killedAt).filter((r) => r === unavailable).length >= 40);
  await new Promise((r) => setTimeout(r, 2200));

  await redis.restart();
  const restartedAt = replies.length;
  await waitFor('served again', () => replies.slice(restartedAt).filter((r) => r.startsWith('{"status": "OK"')).length >= 20, 15_000);
  const downSeconds = (performance.now() - killedAtMs) / 1000;
  stop = true;
  await load;

  // Never an empty reply (a hang ends in the request timeout, a crash in a reset): OK or the clear
  // ERROR; after the restart, whose Redis is empty, a DISCOVER before its REGISTER is not registered.
  const ok = (r: string) => r.startsWith('{"status": "OK"') || r === unavailable;
  expect(replies.slice(killedAt, restartedAt).filter((r) => !ok(r))).toEqual([]);
  expect(replies.slice(restartedAt).filter((r) => !ok(r) && r !== ERROR('peer_not_registered'))).toEqual([]);
  const failed = replies.slice(killedAt).filter((r) => r === unavailable).length;
  expect(failed).toBeGreaterThan(40);
  for (const server of [a, b]) {
    const errors = server.logs.filter((l) => l.includes('ERROR [Rendezvous] Redis unavailable'));
    // A line a second while Redis was away, not one per failed request.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(Math.ceil(downSeconds) + 1);
    expect(errors.length * 10).toBeLessThan(failed);
    expect(server.logs.some((l) => l.includes('[Rendezvous] Redis is reachable again'))).toBe(true);
  }
  // The restarted Redis is empty; what peers register now is shared again.
  expect(await registerFrom(a.port, '127.0.0.2', 'after')).toContain('"status": "OK"');
  expect(await names(b.port, '127.0.0.2')).toContain('after');
}, 60_000);

it('answers registry_unavailable within seconds when Redis hangs, instead of hanging too', async () => {
  const [a] = await twoInstances();
  expect(await registerFrom(a.port, '127.0.0.2', 'alice')).toContain('"status": "OK"');
  redis.pause();
  try {
    const started = performance.now();
    expect(await send(a.port, { type: 'DISCOVER' }, '127.0.0.2')).toBe(ERROR('registry_unavailable'));
    // The rate limit's script at connect waits its 2 s and fails: the client hears within seconds.
    expect(performance.now() - started).toBeLessThan(4_000);
  } finally {
    redis.resume();
  }
  expect(await names(a.port, '127.0.0.2')).toEqual(['alice']);
  expect(a.logs.some((l) => l.includes('[Rendezvous] Redis is reachable again'))).toBe(true);
});
