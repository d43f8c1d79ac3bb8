// The abuse protection of PROTOCOL.md §2 with a small limit and a clock the test moves.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, exchange, register, startTestServer, useBackend, type TestServer } from '../helpers/rendezvous.ts';

let server: TestServer;
afterEach(async () => {
  await server?.close();
});

const DISCOVER = '{"type": "DISCOVER"}\n';
const blocked = (port: number, seconds: number) =>
  `{"status": "ERROR", "message": "Connection from 127.0.0.1:${port} has been blocked due to excessive ` +
  `login attempts (limit: 5). The block will be lifted in ${seconds} seconds."}\n`;

it('drops the connection over the limit without a reply, then answers the block until it lifts', async () => {
  let now = Date.UTC(2026, 10, 24, 12);
  server = await startTestServer({ maxRequests: 5, now: () => now });
  await register(server.port, 'alice', 'CIC', 5000);
  for (let i = 0; i < 4; i++) expect((await exchange(server.port, DISCOVER)).reply).toContain('"status": "OK"');

  expect((await exchange(server.port, DISCOVER)).reply).toBe('');
  let attempt = await exchange(server.port, DISCOVER);
  expect(attempt.reply).toBe(blocked(attempt.localPort, 60));

  now += 45_500;
  attempt = await exchange(server.port, DISCOVER);
  expect(attempt.reply).toBe(blocked(attempt.localPort, 15));

  now += 15_000;
  // Lifted, and the count starts afresh: five more connections are served.
  for (let i = 0; i < 5; i++) expect((await exchange(server.port, DISCOVER)).reply).toContain('"status": "OK"');
  expect((await exchange(server.port, DISCOVER)).reply).toBe('');
});

it('counts connections in a sliding window, not a fixed minute', async () => {
  let now = Date.UTC(2026, 10, 24, 12);
  server = await startTestServer({ maxRequests: 5, now: () => now });
  await register(server.port, 'alice', 'CIC', 5000);
  for (let i = 0; i < 2; i++) await exchange(server.port, DISCOVER);
  now += 40_000;
  for (let i = 0; i < 2; i++) expect((await exchange(server.port, DISCOVER)).reply).toContain('"status": "OK"');
  // 61 s after the first three left the window; the two of t=40 s are still in it.
  now += 21_000;
  for (let i = 0; i < 3; i++) expect((await exchange(server.port, DISCOVER)).reply).toContain('"status": "OK"');
  expect((await exchange(server.port, DISCOVER)).reply).toBe('');
});

it('counts every connection, whatever it sends', async () => {
  server = await startTestServer({ maxRequests: 3, requestTimeoutMs: 200 });
  await exchange(server.port, 'garbage\n');
  await exchange(server.port, '');
  await exchange(server.port, '\n');
  expect((await exchange(server.port, DISCOVER)).reply).toBe('');
});

// Redis counts on its own clock, so here the window and the block are short and the time real.
describe.each(BACKENDS)('on %s, in real time', (backend) => {
  const backendOptions = useBackend(backend);

  it('blocks past the limit, lifts the block after its time, and counts afresh', async () => {
    server = await startTestServer({ ...backendOptions(), maxRequests: 3, windowMs: 60_000, blockMs: 1_000 });
    const flood = () => exchange(server.port, DISCOVER, { from: '127.0.0.10' });
    for (let i = 0; i < 3; i++) expect((await flood()).reply).toBe('{"status": "ERROR", "message": "peer_not_registered"}\n');
    expect((await flood()).reply).toBe('');
    const attempt = await flood();
    expect(attempt.reply).toBe(
      `{"status": "ERROR", "message": "Connection from 127.0.0.10:${attempt.localPort} has been blocked due to excessive ` +
        'login attempts (limit: 3). The block will be lifted in 1 seconds."}\n',
    );
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 3; i++) expect((await flood()).reply).toBe('{"status": "ERROR", "message": "peer_not_registered"}\n');
    expect((await flood()).reply).toBe('');
  });

  it('lets connections leave the window as it slides', async () => {
    server = await startTestServer({ ...backendOptions(), maxRequests: 3, windowMs: 1_500, blockMs: 60_000 });
    const flood = () => exchange(server.port, DISCOVER, { from: '127.0.0.11' });
    const served = '{"status": "ERROR", "message": "peer_not_registered"}\n';
    for (let i = 0; i < 2; i++) expect((await flood()).reply).toBe(served);
    await new Promise((r) => setTimeout(r, 800));
    expect((await flood()).reply).toBe(served);
    await new Promise((r) => setTimeout(r, 800));
    // The first two left the window, the third is still in it: two more are served, then the limit.
    for (let i = 0; i < 2; i++) expect((await flood()).reply).toBe(served);
    expect((await flood()).reply).toBe('');
  });
});
