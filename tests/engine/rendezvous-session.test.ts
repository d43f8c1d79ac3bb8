// The engine's side of the rendezvous protocol (PROTOCOL.md §2): one request per connection, then
// a session that registers, discovers, recovers and leaves. Against our real server on 127.0.0.1,
// and against tiny scripted servers for what a real one does only rarely (blocks, silence).
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Logger, formatLogRecord } from '../../src-main/engine/log.ts';
import { RendezvousError, describeServerError, rendezvousRequest } from '../../src-main/engine/rendezvous/client.ts';
import {
  RendezvousSession,
  RequestBudget,
  type DiscoveredPeer,
  type RendezvousSessionOptions,
} from '../../src-main/engine/rendezvous/session.ts';
import type { RegistrationView } from '../../src-main/engine/api.ts';
import { register, requestJson, startTestServer, type TestServer } from '../helpers/rendezvous.ts';

// Captured before any test fakes timers: waiting for real I/O must use the real clock.
const realSetTimeout = globalThis.setTimeout;
const realSleep = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

const HOST = '127.0.0.1';
const closers: (() => Promise<void>)[] = [];
const sessions: RendezvousSession[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(sessions.splice(0).map((s) => s.stop()));
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function realServer(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  closers.push(() => server.close());
  return server;
}

/** What a scripted server does with one request. */
type FakeAnswer = { send: string } | 'close' | 'hang';

interface FakeServer {
  port: number;
  /** Each request received, with Date.now() when its connection arrived (fake time when faked). */
  requests: { body: Record<string, unknown>; at: number }[];
  /** Date.now() of every connection, whatever it sent. */
  connections: number[];
}

/** A scripted rendezvous server on 127.0.0.1: reads one line per connection, answers as told. */
async function fakeServer(answer: (body: Record<string, unknown>, index: number) => FakeAnswer): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const fake: FakeServer = { port: 0, requests: [], connections: [] };
  const server = createServer((socket) => {
    const at = Date.now();
    fake.connections.push(at);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      if (!text.includes('\n') && (text += chunk.toString('utf8')).includes('\n')) {
        const body = JSON.parse(text.slice(0, text.indexOf('\n'))) as Record<string, unknown>;
        fake.requests.push({ body, at });
        const what = answer(body, fake.requests.length - 1);
        if (what === 'close') socket.end();
        else if (what !== 'hang') socket.end(what.send + '\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  fake.port = (server.address() as AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  );
  return fake;
}

const okReply = (fields: Record<string, unknown> = {}) => ({ send: JSON.stringify({ status: 'OK', ...fields }) });
const blockText = (seconds: number) =>
  `Connection from 127.0.0.1:5555 has been blocked due to excessive login attempts (limit: 50). The block will be lifted in ${seconds} seconds.`;
const blockReply = (seconds: number) => ({ send: JSON.stringify({ status: 'ERROR', message: blockText(seconds) }) });

/** Answers like a healthy server: REGISTER echoes, DISCOVER lists the session's own record (alice's, as startSession registers it) and `peers`. */
function healthy(body: Record<string, unknown>, peers: unknown[] = []): FakeAnswer {
  const type = String(body.type).toUpperCase();
  if (type === 'REGISTER') return okReply({ ttl: body.ttl, ip: HOST, port: body.port });
  if (type === 'DISCOVER') return okReply({ peers: [{ ip: HOST, port: 5000, name: 'alice', namespace: 'CIC', ttl: 600, expires_in: 600 }, ...peers] });
  return okReply();
}

/** A port on 127.0.0.1 that nothing listens on. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The RendezvousError `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<RendezvousError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RendezvousError);
    return err as RendezvousError;
  }
  throw new Error('expected the request to fail');
}

/** Polls `condition` on the real clock until it holds. */
async function until(condition: () => boolean, what: string, ms = 8000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= ms) throw new Error(`timed out waiting for ${what}`);
    await realSleep(10);
  }
}

/** With faked timers: moves fake time in small steps, letting real I/O run between them. */
async function advanceUntil(condition: () => boolean, what: string, stepMs = 100, maxMs = 120_000): Promise<void> {
  for (let advanced = 0; !condition(); advanced += stepMs) {
    if (advanced >= maxMs) throw new Error(`${what} did not happen within ${maxMs} ms of fake time`);
    await vi.advanceTimersByTimeAsync(stepMs);
    await realSleep(5);
  }
}

function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
}

interface Harness {
  session: RendezvousSession;
  events: RegistrationView[];
  discovered: DiscoveredPeer[][];
  logs: string[];
  state: () => string;
}

function startSession(port: number, options: Partial<RendezvousSessionOptions> = {}, timeoutMs = 5000): Harness {
  const events: RegistrationView[] = [];
  const discovered: DiscoveredPeer[][] = [];
  const logs: string[] = [];
  const session = new RendezvousSession({
    endpoint: { host: HOST, port, timeoutMs },
    name: 'alice',
    namespace: 'CIC',
    port: () => 5000,
    ttl: 600,
    discoverIntervalMs: 200,
    maxRequestsPerMinute: 10,
    log: new Logger({ level: 'DEBUG', sink: (r) => logs.push(formatLogRecord(r)) }).module('Rendezvous'),
    now: () => Date.now(),
    onRegistration: (view) => events.push(view),
    onDiscovered: (peers) => discovered.push(peers),
    ...options,
  });
  sessions.push(session);
  session.start();
  return { session, events, discovered, logs, state: () => session.registration.state };
}

type Peer = { name: string; namespace: string; port: number; ttl: number };

describe('rendezvousRequest', () => {
  const endpoint = (port: number, timeoutMs = 3000) => ({ host: HOST, port, timeoutMs });

  it('resolves with the OK reply of the real server', async () => {
    const server = await realServer();
    const reply = await rendezvousRequest(endpoint(server.port), { type: 'REGISTER', namespace: 'CIC', name: 'alice', port: 5000, ttl: 60 });
    expect(reply).toEqual({ status: 'OK', ttl: 60, ip: HOST, port: 5000 });
    const peers = await rendezvousRequest(endpoint(server.port), { type: 'DISCOVER' });
    expect(peers).toMatchObject({ status: 'OK', peers: [{ name: 'alice', namespace: 'CIC', ip: HOST, port: 5000, ttl: 60 }] });
  });

  it("rejects with code 'server' and the server's message on an ERROR reply", async () => {
    const server = await realServer();
    const unregistered = await rejection(rendezvousRequest(endpoint(server.port), { type: 'DISCOVER' }));
    expect(unregistered.code).toBe('server');
    expect(unregistered.message).toBe('peer_not_registered');

    const badName = await rejection(rendezvousRequest(endpoint(server.port), { type: 'REGISTER', namespace: 'CIC', name: 'x'.repeat(65), port: 5000 }));
    expect(badName).toMatchObject({ code: 'server', message: 'bad_name' });
  });

  it.each([
    ['the reference server (`message`)', '{"status": "ERROR", "message": "line_too_long", "limit": 32768}'],
    ['an older server (`error`)', '{"status": "ERROR", "error": "line_too_long"}'],
  ])('reads the line_too_long ERROR of %s', async (_, reply) => {
    const fake = await fakeServer(() => ({ send: reply }));
    const err = await rejection(rendezvousRequest(endpoint(fake.port), { type: 'DISCOVER' }));
    expect(err).toMatchObject({ code: 'server', message: 'line_too_long' });
    expect(describeServerError(err.message)).toBe('the request was over the server line limit (line_too_long)');
  });

  it("rejects with 'no_reply' when the server closes without answering", async () => {
    const fake = await fakeServer(() => 'close');
    const err = await rejection(rendezvousRequest(endpoint(fake.port), { type: 'DISCOVER' }));
    expect(err.code).toBe('no_reply');
    expect(fake.requests.map((r) => r.body)).toEqual([{ type: 'DISCOVER' }]);
  });

  it("rejects with 'no_reply' for the connection that trips the real server's rate limit", async () => {
    const server = await realServer({ maxRequests: 2 });
    await register(server.port, 'alice', 'CIC', 5000);
    await rendezvousRequest(endpoint(server.port), { type: 'DISCOVER' });
    expect((await rejection(rendezvousRequest(endpoint(server.port), { type: 'DISCOVER' }))).code).toBe('no_reply');
  });

  it("rejects with 'timeout' when the server never answers", async () => {
    const fake = await fakeServer(() => 'hang');
    const err = await rejection(rendezvousRequest(endpoint(fake.port, 150), { type: 'DISCOVER' }));
    expect(err.code).toBe('timeout');
    expect(fake.requests.map((r) => r.body)).toEqual([{ type: 'DISCOVER' }]);
  });

  it("rejects with 'unreachable' when nothing listens on the port", async () => {
    const port = await refusedPort();
    const err = await rejection(rendezvousRequest(endpoint(port), { type: 'DISCOVER' }));
    expect(err.code).toBe('unreachable');
    expect(err.message).toContain(`${HOST}:${port}`);
  });

  it("rejects with 'blocked' and the block's duration on the block message", async () => {
    const fake = await fakeServer(() => blockReply(2));
    const err = await rejection(rendezvousRequest(endpoint(fake.port), { type: 'REGISTER', name: 'a', namespace: 'CIC', port: 1 }));
    expect(err.code).toBe('blocked');
    expect(err.retryAfterMs).toBe(2000);
  });

  it("rejects with 'blocked' when the real server blocks this IP", async () => {
    const server = await realServer({ maxRequests: 1 });
    await register(server.port, 'alice', 'CIC', 5000);
    await rejection(rendezvousRequest(endpoint(server.port), { type: 'DISCOVER' })); // dropped: trips the limit
    const err = await rejection(rendezvousRequest(endpoint(server.port), { type: 'DISCOVER' }));
    expect(err.code).toBe('blocked');
    expect(err.retryAfterMs).toBe(60_000);
  });

  it("rejects with 'bad_reply' on a reply that is not a JSON object", async () => {
    for (const reply of ['hello', '[1,2]', '"OK"', 'null']) {
      const fake = await fakeServer(() => ({ send: reply }));
      expect((await rejection(rendezvousRequest(endpoint(fake.port), { type: 'DISCOVER' }))).code, reply).toBe('bad_reply');
    }
  });

  it('accepts a reply ended by end of stream instead of a newline', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => socket.end('{"status": "OK", "peers": []}'));
    });
    await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
    closers.push(() => new Promise<void>((resolve) => (server.close(() => resolve()), sockets.forEach((s) => s.destroy()))));
    const reply = await rendezvousRequest(endpoint((server.address() as AddressInfo).port), { type: 'DISCOVER' });
    expect(reply).toEqual({ status: 'OK', peers: [] });
  });

  it('describes the server error codes in words, keeping the code', () => {
    expect(describeServerError('bad_name')).toMatch(/name.*\(bad_name\)/);
    expect(describeServerError('peer_not_registered')).toContain('peer_not_registered');
    expect(describeServerError('bad_port (70000)')).toMatch(/port.*\(bad_port \(70000\)\)/);
    expect(describeServerError('something new')).toBe('something new');
  });
});

describe('RendezvousSession against the real server', () => {
  it('registers, reports the address the server saw and its TTL, then discovers the peers', async () => {
    const server = await realServer();
    await register(server.port, 'bob', 'CIC', 6000);
    await register(server.port, 'carol', 'UnB', 6001);

    const before = Date.now();
    const h = startSession(server.port, { ttl: 100_000 });
    await until(() => h.discovered.length > 0, 'the first discovery');
    const after = Date.now();

    expect(h.events[0]!.state).toBe('registering');
    const registered = h.events.find((e) => e.state === 'registered')!;
    expect(registered).toMatchObject({ state: 'registered', server: `${HOST}:${server.port}`, ip: HOST, ttl: 86400, error: undefined });
    // The server clamped the TTL: our record expires a day from now, not 100000 s.
    expect(registered.expiresAt).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(registered.expiresAt).toBeLessThanOrEqual(after + 86_400_000);

    const peers = h.discovered[0]!;
    expect(peers).toContainEqual({ peerId: 'bob@CIC', name: 'bob', namespace: 'CIC', ip: HOST, port: 6000, expiresIn: expect.any(Number) });
    expect(peers).toContainEqual(expect.objectContaining({ peerId: 'carol@UnB', port: 6001 }));
    expect(peers).toContainEqual(expect.objectContaining({ peerId: 'alice@CIC', port: 5000 }));

    // What the server holds for us.
    const listed = (await requestJson(server.port, { type: 'DISCOVER', namespace: 'CIC' })).peers as Peer[];
    expect(listed).toContainEqual(expect.objectContaining({ name: 'alice', namespace: 'CIC', port: 5000, ttl: 86400 }));
  });

  it('on-demand discover() answers with the peers the server lists now', async () => {
    const server = await realServer();
    let skew = 0;
    const h = startSession(server.port, { discoverIntervalMs: 60_000, now: () => Date.now() + skew });
    await until(() => h.discovered.length > 0, 'the first discovery');
    await register(server.port, 'dave', 'CIC', 7000);
    skew += 5_000; // an on-demand request right after the last one may reuse its answer
    const peers = await h.session.discover();
    expect(peers.map((p) => p.peerId).sort()).toEqual(['alice@CIC', 'dave@CIC']);
    expect(h.discovered.at(-1)).toEqual(peers);
  });

  it('a refused identity ends in state refused, says why, and is never retried', async () => {
    const server = await realServer();
    fakeTimers();
    const h = startSession(server.port, { name: 'x'.repeat(65) });
    await until(() => h.state() === 'refused', 'the refusal');
    const refused = h.session.registration;
    expect(refused.error).toContain('bad_name');
    expect(refused.retryAt).toBeUndefined();
    const eventsSoFar = h.events.length;

    // Ten minutes later: nothing more was tried.
    vi.advanceTimersByTime(600_000);
    await realSleep(100);
    expect(h.events.length).toBe(eventsSoFar);
    expect(h.state()).toBe('refused');
    expect(server.logs.filter((l) => l.includes('REGISTER'))).toHaveLength(1);
    expect(h.discovered).toEqual([]);
  });

  it('registers again by itself when a restarted server no longer knows it', async () => {
    let server = await realServer();
    const port = server.port;
    let skew = 0;
    const h = startSession(port, { now: () => Date.now() + skew });
    await until(() => h.discovered.length > 0, 'the first discovery');
    expect(server.registrations).toBe(1);

    await server.close();
    server = await realServer({ port });
    expect(server.registrations).toBe(0);
    const eventsBefore = h.events.length;
    skew += 5_000; // past the minimum gap between two DISCOVERs

    // The server stores the record before its reply reaches the session: wait for both.
    await until(() => server.registrations === 1 && h.events.at(-1)?.state === 'registered', 'the new registration');
    expect(server.logs.some((l) => /DISCOVER.*peer_not_registered/.test(l))).toBe(true);
    const later = h.events.slice(eventsBefore).map((e) => e.state);
    expect(later).toContain('registering');
    expect(later.at(-1)).toBe('registered');
    const listed = (await requestJson(port, { type: 'DISCOVER' })).peers as Peer[];
    expect(listed).toEqual([expect.objectContaining({ name: 'alice', namespace: 'CIC', port: 5000 })]);
  });

  it('stop() unregisters: the server no longer lists us, other peers stay', async () => {
    const server = await realServer();
    await register(server.port, 'bob', 'CIC', 6000);
    const h = startSession(server.port);
    await until(() => h.state() === 'registered', 'the registration');
    expect(server.registrations).toBe(2);

    await h.session.stop();
    expect(server.registrations).toBe(1);
    const listed = (await requestJson(server.port, { type: 'DISCOVER' })).peers as Peer[];
    expect(listed.map((p) => p.name)).toEqual(['bob']);
    expect(h.events.at(-1)!.state).toBe('unregistered');
    expect(server.logs.some((l) => /UNREGISTER.*OK 1 removed/.test(l))).toBe(true);
  });

  it('renews the registration before its TTL runs out', async () => {
    fakeTimers();
    const server = await realServer({ now: () => Date.now() });
    const h = startSession(server.port, { ttl: 10, discoverIntervalMs: 60_000 }, 30_000);
    await until(() => h.state() === 'registered', 'the registration');
    const registers = () => server.logs.filter((l) => /REGISTER alice@CIC .* -> OK/.test(l)).length;
    expect(registers()).toBe(1);

    // Three TTLs later the record is still alive: it was renewed each time before expiring.
    const start = Date.now();
    await advanceUntil(() => Date.now() - start >= 30_000, '30 s of fake time', 250);
    expect(registers()).toBeGreaterThanOrEqual(3);
    const listed = (await requestJson(server.port, { type: 'DISCOVER' })).peers as (Peer & { expires_in: number })[];
    expect(listed).toEqual([expect.objectContaining({ name: 'alice', ttl: 10 })]);
    expect(listed[0]!.expires_in).toBeGreaterThan(0);
  });

  it('keeps retrying an unreachable server with backoff, and registers once it is up', async () => {
    fakeTimers();
    const port = await refusedPort();
    const h = startSession(port, {}, 30_000);
    await until(() => h.state() === 'unreachable', 'the first failure');
    const failed = h.session.registration;
    expect(failed.error).toContain(`${HOST}:${port}`);
    expect(failed.retryAt).toBeGreaterThan(Date.now());

    const server = await realServer({ port });
    await advanceUntil(() => h.state() === 'registered', 'the registration');
    expect(server.registrations).toBe(1);
    expect(h.session.registration).toMatchObject({ ip: HOST, error: undefined, retryAt: undefined });
  });
});

describe('RendezvousSession when the server blocks this IP', () => {
  it('waits out a block met at REGISTER before sending anything else, then registers', async () => {
    fakeTimers();
    const fake = await fakeServer((body, i) => (i === 0 ? blockReply(2) : healthy(body)));
    const h = startSession(fake.port, {}, 30_000);
    await until(() => h.state() === 'blocked', 'the blocked state');
    const blockedAt = fake.connections[0]!;
    const view = h.session.registration;
    expect(view.error).toMatch(/blocked/);
    expect(view.retryAt).toBeGreaterThanOrEqual(blockedAt + 2000);

    // An on-demand discovery during the block must wait too.
    const discovery = h.session.discover();
    await vi.advanceTimersByTimeAsync(1999);
    await realSleep(100);
    expect(fake.connections).toHaveLength(1);

    await advanceUntil(() => h.state() === 'registered', 'the registration after the block');
    await discovery;
    // The retried REGISTER and the waiting DISCOVER both go once the block is over, in either order.
    const types = fake.requests.map((r) => String(r.body.type));
    expect(types[0]).toBe('REGISTER');
    expect(types.slice(1).sort()).toEqual(['DISCOVER', 'REGISTER']);
    for (const at of fake.connections.slice(1)) expect(at).toBeGreaterThanOrEqual(blockedAt + 2000);
  });

  it('stays registered through a block met at DISCOVER, and sends nothing until it is over', async () => {
    fakeTimers();
    const bob = { ip: HOST, port: 6000, name: 'bob', namespace: 'CIC', ttl: 600, expires_in: 600 };
    const fake = await fakeServer((body, i) => (i === 1 ? blockReply(2) : healthy(body, [bob])));
    const h = startSession(fake.port, {}, 30_000);
    await until(() => h.logs.some((l) => l.includes('blocked')), 'the block to be noticed');
    expect(fake.requests.map((r) => r.body.type)).toEqual(['REGISTER', 'DISCOVER']);
    const blockedAt = fake.connections[1]!;
    expect(h.state()).toBe('registered');

    let peers: DiscoveredPeer[] | undefined;
    void h.session.discover().then((p) => (peers = p));
    await vi.advanceTimersByTimeAsync(1999);
    await realSleep(100);
    expect(fake.connections).toHaveLength(2);
    expect(h.state()).toBe('registered');

    await advanceUntil(() => peers !== undefined, 'the discovery after the block');
    expect(peers?.map((p) => p.peerId)).toEqual(['alice@CIC', 'bob@CIC']);
    expect(peers?.[1]).toEqual({ peerId: 'bob@CIC', name: 'bob', namespace: 'CIC', ip: HOST, port: 6000, expiresIn: 600 });
    expect(fake.connections).toHaveLength(3);
    expect(fake.connections[2]).toBeGreaterThanOrEqual(blockedAt + 2000);
    expect(h.events.map((e) => e.state)).toEqual(['registering', 'registered']);
  });

  it('stop() while blocked and unregistered sends nothing', async () => {
    const fake = await fakeServer(() => blockReply(30));
    const h = startSession(fake.port);
    await until(() => h.state() === 'blocked', 'the blocked state');
    await h.session.stop();
    await realSleep(100);
    expect(fake.connections).toHaveLength(1);
  });
});

describe('RequestBudget', () => {
  it('gives up to max slots in a minute, then the wait until the oldest leaves the window', () => {
    let now = 1_000_000;
    const budget = new RequestBudget(3, () => now);
    expect(budget.take()).toBe(0);
    now += 10_000;
    expect(budget.take()).toBe(0);
    now += 10_000;
    expect(budget.take()).toBe(0);
    // Three taken at t=0, 10 s, 20 s; at 25 s the first leaves the window 35 s later.
    now += 5_000;
    expect(budget.take()).toBe(35_000);
    expect(budget.take()).toBe(35_000); // asking again does not take a slot
    now += 35_000;
    expect(budget.take()).toBe(0);
    // Now the window holds 10 s, 20 s and 60 s: the next slot frees at 70 s.
    expect(budget.take()).toBe(10_000);
  });

  it('refuses every request until a block is over, without spending slots meanwhile', () => {
    let now = 0;
    const budget = new RequestBudget(2, () => now);
    budget.block(5_000);
    expect(budget.take()).toBe(5_000);
    now = 4_000;
    expect(budget.take()).toBe(1_000);
    now = 5_000;
    expect(budget.take()).toBe(0);
    expect(budget.take()).toBe(0);
    // Both slots went at 5 s: the next frees a minute later.
    expect(budget.take()).toBe(60_000);
  });

  it('keeps the later of two blocks', () => {
    let now = 0;
    const budget = new RequestBudget(10, () => now);
    budget.block(10_000);
    budget.block(3_000);
    expect(budget.take()).toBe(10_000);
    now = 10_000;
    expect(budget.take()).toBe(0);
  });
});
