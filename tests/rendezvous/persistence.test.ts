// Registrations in a real SQLite file in a temp folder: they survive a restart, expire on time,
// and a file that is not ours is refused rather than altered.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Registry } from '../../src-main/rendezvous-server/registry.ts';
import { startRendezvousServer } from '../../src-main/rendezvous-server/server.ts';
import { register, requestJson, startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let dir: string;
let dbFile: string;
const servers: TestServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-rdv-'));
  dbFile = join(dir, 'rendezvous.db');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(now?: () => number) {
  const server = await startTestServer({ db: dbFile, ...(now ? { now } : {}) });
  servers.push(server);
  return server;
}

type Peer = { name: string; namespace: string; port: number; ttl: number; expires_in: number };
const discover = async (port: number) => ((await requestJson(port, { type: 'DISCOVER' })).peers as Peer[]);

it('keeps registrations, their order and their remaining TTL across a restart', async () => {
  let now = Date.UTC(2026, 10, 24, 12);
  const first = await start(() => now);
  await register(first.port, 'alice', 'CIC', 5000, { ttl: 600 });
  await register(first.port, 'bob', 'UnB', 5001);
  await register(first.port, 'alice', 'CIC', 5002, { ttl: 600 });
  await first.close();
  servers.length = 0;

  now += 100_000;
  const second = await start(() => now);
  expect(await discover(second.port)).toEqual([
    { ip: '127.0.0.1', port: 5001, name: 'bob', namespace: 'UnB', ttl: 7200, expires_in: 7100 },
    { ip: '127.0.0.1', port: 5002, name: 'alice', namespace: 'CIC', ttl: 600, expires_in: 500 },
  ]);
});

it('sweeps records that expired while the server was down, from the file too', async () => {
  let now = Date.UTC(2026, 10, 24, 12);
  const first = await start(() => now);
  await register(first.port, 'keeper', 'CIC', 5000);
  await register(first.port, 'brief', 'CIC', 5001, { ttl: 30 });
  await first.close();
  servers.length = 0;

  now += 31_000;
  const second = await start(() => now);
  expect((await discover(second.port)).map((p) => p.name)).toEqual(['keeper']);
  await second.close();
  const db = new DatabaseSync(dbFile, { readOnly: true });
  expect(db.prepare('SELECT name FROM peers').all().map((r) => r.name)).toEqual(['keeper']);
  db.close();
});

it('keeps the database in WAL mode', async () => {
  const server = await start();
  await register(server.port, 'alice', 'CIC', 5000);
  await server.close();
  const db = new DatabaseSync(dbFile, { readOnly: true });
  expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
  db.close();
});

it('refuses a SQLite file of another program and leaves it untouched', async () => {
  const other = new DatabaseSync(dbFile);
  other.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')");
  other.close();
  const before = readFileSync(dbFile);
  await expect(startRendezvousServer({ host: '127.0.0.1', port: 0, db: dbFile })).rejects.toThrow(
    `${dbFile} is not a ChatP2P rendezvous database; refusing to modify it`,
  );
  expect(readFileSync(dbFile).equals(before)).toBe(true);
});

it('refuses a file that is not a database and leaves it untouched', async () => {
  writeFileSync(dbFile, 'these are my lecture notes, not a database\n'.repeat(200));
  const before = readFileSync(dbFile);
  await expect(startRendezvousServer({ host: '127.0.0.1', port: 0, db: dbFile })).rejects.toThrow(
    /cannot open rendezvous database .*rendezvous\.db: file is not a database/,
  );
  expect(readFileSync(dbFile).equals(before)).toBe(true);
});

it('calls back a change only once it is committed to the file', async () => {
  const registry = new Registry(dbFile, Date.now());
  // The server holds the file locked, so look at what is on disk through a copy of its files.
  const onDisk = () => {
    const copy = join(dir, 'snapshot.db');
    for (const suffix of ['', '-wal']) copyFileSync(dbFile + suffix, copy + suffix);
    const db = new DatabaseSync(copy);
    const names = db.prepare('SELECT name FROM peers ORDER BY seq').all().map((r) => r.name);
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(copy + suffix, { force: true });
    return names;
  };
  registry.register('127.0.0.1', 'CIC', 'alice', 5000, 60, Date.now());
  registry.register('127.0.0.1', 'CIC', 'bob', 5001, 60, Date.now());
  const seen = await new Promise<unknown[]>((resolve, reject) =>
    registry.whenCommitted((err) => (err ? reject(err) : resolve(onDisk()))),
  );
  expect(seen).toEqual(['alice', 'bob']);
  registry.unregister('127.0.0.1', 'CIC', Date.now(), 'alice');
  const afterUnregister = await new Promise<unknown[]>((resolve) => registry.whenCommitted(() => resolve(onDisk())));
  expect(afterUnregister).toEqual(['bob']);
  registry.close();
});

it('refuses a second server on a file another server is using', async () => {
  await start();
  await expect(startRendezvousServer({ host: '127.0.0.1', port: 0, db: dbFile })).rejects.toThrow(
    `${dbFile} is in use by another rendezvous server`,
  );
});
