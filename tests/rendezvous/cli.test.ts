// `npm run rendezvous` as a user runs it: a child process, its listening line, its log, its errors.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startRedis } from '../helpers/redis.ts';
import { exchange, register } from '../helpers/rendezvous.ts';

const MAIN = join(import.meta.dirname, '../../src-main/rendezvous-server/main.ts');
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], { env });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /^Rendezvous server listening on 127\.0\.0\.1:(\d+) /m.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  // Runs that are meant to fail never listen; only a test awaiting `listening` cares.
  listening.catch(() => undefined);
  return { child, listening, exited, out: () => stdout, err: () => stderr };
}

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'chatp2p-cli-'));
  dirs.push(d);
  return d;
};

it('prints one line when listening, logs each request, and stops cleanly on SIGTERM', async () => {
  const server = run(['--host', '127.0.0.1', '--port', '0', '--db', ':memory:']);
  const port = await server.listening;
  expect(server.out()).toBe(`Rendezvous server listening on 127.0.0.1:${port} (registrations: in memory only, 0 live)\n`);
  expect(await register(port, 'alice', 'CIC', 5000)).toEqual({ status: 'OK', ttl: 7200, ip: '127.0.0.1', port: 5000 });
  await expect.poll(server.err).toMatch(/ INFO +\[Rendezvous\] REGISTER alice@CIC 127\.0\.0\.1:5000 ttl=7200 -> OK\n/);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
});

it("keeps registrations in the user's data folder by default, across restarts", async () => {
  const config = tempDir();
  const env = { ...process.env, XDG_CONFIG_HOME: config };
  const first = run(['--host', '127.0.0.1', '--port', '0'], env);
  await register(await first.listening, 'alice', 'CIC', 5000);
  first.child.kill('SIGTERM');
  await first.exited;
  const dbFile = join(config, 'ChatP2P', 'rendezvous.db');
  expect(existsSync(dbFile)).toBe(true);

  const second = run(['--host', '127.0.0.1', '--port', '0'], env);
  await second.listening;
  expect(second.out()).toContain(`(registrations: ${dbFile}, 1 live)`);
});

it('explains bad flags and a busy port, and exits non-zero', async () => {
  const badPort = run(['--port', 'http']);
  expect(await badPort.exited).toBe(2);
  expect(badPort.err()).toBe("rendezvous: --port must be a whole number from 0 to 65535, got 'http'\n");

  const unknown = run(['--colour']);
  expect(await unknown.exited).toBe(2);
  expect(unknown.err()).toMatch(/^rendezvous: Unknown option '--colour'/);

  const busy = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => busy.once('listening', r));
  const port = (busy.address() as { port: number }).port;
  const clash = run(['--host', '127.0.0.1', '--port', String(port), '--db', ':memory:']);
  expect(await clash.exited).toBe(1);
  expect(clash.err()).toBe(`rendezvous: port ${port} on 127.0.0.1 is already in use\n`);
  busy.close();
});

it('refuses a database file that is not its own', async () => {
  const file = join(tempDir(), 'notes.txt');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, 'not a database, and not to be overwritten\n'.repeat(100));
  const server = run(['--host', '127.0.0.1', '--port', '0', '--db', file]);
  expect(await server.exited).toBe(1);
  expect(server.err()).toMatch(/^rendezvous: cannot open rendezvous database .*notes\.txt: file is not a database\n$/);
});

it('holds 10,000 silent connections at once, serves others meanwhile, and times each one out', async () => {
  const server = run(['--host', '127.0.0.1', '--port', '0', '--db', ':memory:', '--max-requests', '1000000', '--log-level', 'ERROR']);
  const port = await server.listening;
  const replies: string[] = [];
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  // Opened in batches so the listen backlog is not what the test measures.
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(
      Array.from({ length: 1000 }, () => new Promise<void>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, resolve);
        let reply = '';
        s.on('data', (d: Buffer) => (reply += d));
        s.on('error', reject);
        closed.push(new Promise((done) => s.on('close', () => {
          replies.push(reply);
          done();
        })));
        sockets.push(s);
      })),
    );
  }
  expect(sockets).toHaveLength(10_000);
  expect(await register(port, 'alice', 'CIC', 5000)).toMatchObject({ status: 'OK' });

  await Promise.all(closed);
  const timeout = '{"status": "ERROR", "message": "Timeout: no data received, closing connection"}\n';
  expect(replies.filter((r) => r === timeout)).toHaveLength(10_000);
  expect(server.child.exitCode).toBe(null);
  expect((await exchange(port, '{"type": "DISCOVER"}\n')).reply).toContain('"name": "alice"');
}, 60_000);

it('serves from Redis with --redis, and says why it cannot when Redis is not there', async () => {
  const redis = await startRedis();
  try {
    const server = run(['--host', '127.0.0.1', '--port', '0', '--redis', redis.url, '--redis-prefix', 'cli:']);
    const port = await server.listening;
    expect(server.out()).toBe(`Rendezvous server listening on 127.0.0.1:${port} (registrations: in Redis at ${redis.url}, keys cli:*)\n`);
    expect(await register(port, 'alice', 'CIC', 5000)).toEqual({ status: 'OK', ttl: 7200, ip: '127.0.0.1', port: 5000 });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  } finally {
    await redis.stop();
  }

  const gone = run(['--host', '127.0.0.1', '--port', '0', '--redis', redis.url]);
  expect(await gone.exited).toBe(1);
  expect(gone.err()).toMatch(new RegExp(`^rendezvous: cannot reach Redis at ${redis.url}: .*ECONNREFUSED.*\\n$`));

  for (const [args, message] of [
    [['--redis', 'localhost:6379'], "--redis must look like redis://HOST:PORT/DB, got 'localhost:6379'"],
    [['--redis', redis.url, '--redis-prefix', 'a{b}:'], "--redis-prefix may not hold braces or spaces, got 'a{b}:'"],
    [['--redis-prefix', 'x:'], '--redis-prefix needs --redis'],
    [['--redis', redis.url, '--db', ':memory:'], '--db and --redis exclude each other: registrations are kept in one place'],
  ] as const) {
    const bad = run([...args]);
    expect(await bad.exited).toBe(2);
    expect(bad.err()).toBe(`rendezvous: ${message}\n`);
  }
});
