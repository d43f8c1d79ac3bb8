// The abuse protection of PROTOCOL.md §2 with a small limit and a clock the test moves.
import { afterEach, expect, it } from 'vitest';
import { exchange, register, startTestServer, type TestServer } from '../helpers/rendezvous.ts';

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
