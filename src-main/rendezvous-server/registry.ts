import { DatabaseSync, type StatementSync } from 'node:sqlite';

/** One registration. Immutable: registering again replaces the object. */
export interface PeerRecord {
  readonly ip: string;
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  readonly ttl: number;
  /** Epoch milliseconds of the last REGISTER. */
  readonly registeredAt: number;
  readonly expiresAt: number;
}

export class RegistryError extends Error {}

// 'CP2R' marks the file as ours, so a foreign SQLite database is refused instead of altered.
const APPLICATION_ID = 0x43503252;
const MIGRATIONS: readonly string[] = [
  // One B-tree keyed like the registry, so a REGISTER updates a single row in place; `seq` keeps
  // the order of last registration, which DISCOVER lists by.
  `CREATE TABLE peers (
     ip TEXT NOT NULL,
     namespace TEXT NOT NULL,
     name TEXT NOT NULL,
     port INTEGER NOT NULL,
     ttl INTEGER NOT NULL,
     registered_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     PRIMARY KEY (ip, namespace, name)
   ) WITHOUT ROWID;`,
];

const keyOf = (ip: string, namespace: string, name: string) => `${ip}\u0000${namespace}\u0000${name}`;

/**
 * The registry of the reference server: records keyed by (observed ip, namespace, name), listed
 * in order of their last REGISTER (the reference appends a re-registered record at the end).
 * Reads are served from memory. Changes are written to SQLite in one transaction per event-loop
 * turn (group commit), and `whenCommitted` lets a change be answered only once it is on disk.
 */
export class Registry {
  private readonly records = new Map<string, PeerRecord>();
  private readonly byIp = new Map<string, Map<string, PeerRecord>>();
  private readonly db: DatabaseSync;
  private readonly upsertStmt: StatementSync;
  private readonly deleteStmt: StatementSync;
  private readonly sweepStmt: StatementSync;
  private nextSeq = 0;
  private uncommitted: (() => void)[] = [];
  private committedCallbacks: ((err?: Error) => void)[] = [];

  /** `path` is a file, or ':memory:' for a registry that does not outlive the process. */
  constructor(path: string, now: number) {
    try {
      this.db = new DatabaseSync(path);
      migrate(this.db, path);
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw new RegistryError(`cannot open rendezvous database ${path}: ${(err as Error).message}`);
    }
    this.upsertStmt = this.db.prepare(
      `INSERT INTO peers (ip, namespace, name, port, ttl, registered_at, expires_at, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ip, namespace, name) DO UPDATE SET port = excluded.port, ttl = excluded.ttl,
         registered_at = excluded.registered_at, expires_at = excluded.expires_at, seq = excluded.seq`,
    );
    this.deleteStmt = this.db.prepare('DELETE FROM peers WHERE ip = ? AND namespace = ? AND name = ?');
    this.sweepStmt = this.db.prepare('DELETE FROM peers WHERE expires_at <= ?');
    this.sweep(now);
    const rows = this.db
      .prepare('SELECT ip, namespace, name, port, ttl, registered_at, expires_at, seq FROM peers ORDER BY seq')
      .all() as { ip: string; namespace: string; name: string; port: number; ttl: number; registered_at: number; expires_at: number; seq: number }[];
    for (const r of rows) {
      this.nextSeq = r.seq + 1;
      this.index({
        ip: r.ip,
        namespace: r.namespace,
        name: r.name,
        port: r.port,
        ttl: r.ttl,
        registeredAt: r.registered_at,
        expiresAt: r.expires_at,
      });
    }
  }

  register(ip: string, namespace: string, name: string, port: number, ttl: number, now: number): PeerRecord {
    const record: PeerRecord = { ip, namespace, name, port, ttl, registeredAt: now, expiresAt: now + ttl * 1000 };
    const seq = this.nextSeq++;
    this.write(() => this.upsertStmt.run(ip, namespace, name, port, ttl, record.registeredAt, record.expiresAt, seq));
    this.unindex(keyOf(ip, namespace, name));
    this.index(record);
    return record;
  }

  /** Live records in registration order, all of them or those of one namespace. */
  live(now: number, namespace?: string): PeerRecord[] {
    const out: PeerRecord[] = [];
    for (const r of this.records.values()) {
      if (r.expiresAt > now && (namespace === undefined || r.namespace === namespace)) out.push(r);
    }
    return out;
  }

  hasLiveRecord(ip: string, now: number): boolean {
    for (const r of this.byIp.get(ip)?.values() ?? []) if (r.expiresAt > now) return true;
    return false;
  }

  /** Removes the caller's live records in `namespace` that match `name`/`port` when given. */
  unregister(ip: string, namespace: string, now: number, name?: unknown, port?: number): number {
    const matches = [...(this.byIp.get(ip)?.values() ?? [])].filter(
      (r) =>
        r.expiresAt > now &&
        r.namespace === namespace &&
        (name === undefined || r.name === name) &&
        (port === undefined || r.port === port),
    );
    for (const r of matches) {
      this.write(() => this.deleteStmt.run(r.ip, r.namespace, r.name));
      this.unindex(keyOf(r.ip, r.namespace, r.name));
    }
    return matches.length;
  }

  /** Deletes expired records from memory and disk; returns how many. */
  sweep(now: number): number {
    const removed = Number(this.sweepStmt.run(now).changes);
    for (const [key, r] of this.records) if (r.expiresAt <= now) this.unindex(key);
    return removed;
  }

  get size(): number {
    return this.records.size;
  }

  /** Calls `done` once every change made so far is committed: at once if there is none. */
  whenCommitted(done: (err?: Error) => void): void {
    if (this.uncommitted.length === 0) return done();
    this.committedCallbacks.push(done);
  }

  close(): void {
    if (!this.db.isOpen) return;
    this.commit();
    this.db.close();
  }

  private write(statement: () => void): void {
    if (this.uncommitted.push(statement) === 1) setImmediate(() => this.commit());
  }

  private commit(): void {
    const statements = this.uncommitted;
    const callbacks = this.committedCallbacks;
    if (statements.length === 0) return;
    this.uncommitted = [];
    this.committedCallbacks = [];
    let error: Error | undefined;
    try {
      this.db.exec('BEGIN');
      for (const run of statements) run();
      this.db.exec('COMMIT');
    } catch (err) {
      error = err as Error;
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
    }
    for (const done of callbacks) done(error);
  }

  private index(r: PeerRecord): void {
    const key = keyOf(r.ip, r.namespace, r.name);
    this.records.set(key, r);
    let own = this.byIp.get(r.ip);
    if (!own) this.byIp.set(r.ip, (own = new Map()));
    own.set(key, r);
  }

  private unindex(key: string): void {
    const r = this.records.get(key);
    if (!r) return;
    this.records.delete(key);
    const own = this.byIp.get(r.ip)!;
    own.delete(key);
    if (own.size === 0) this.byIp.delete(r.ip);
  }
}

function migrate(db: DatabaseSync, path: string): void {
  // One server per file: the registry lives in this process's memory, so a second server on
  // the same file would diverge from it. Holding the lock also spares a lock/unlock per commit,
  // and set before the first WAL access it keeps the WAL index out of shared memory.
  db.exec('PRAGMA locking_mode = EXCLUSIVE');
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (err) {
    if (/locked|busy/i.test((err as Error).message)) {
      throw new RegistryError(`${path} is in use by another rendezvous server`);
    }
    throw err;
  }
  const pragma = (name: string) => Number((db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown>)[name]);
  const version = pragma('user_version');
  const appId = pragma('application_id');
  const tables = Number((db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n);
  if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
    throw new RegistryError(`${path} is not a ChatP2P rendezvous database; refusing to modify it`);
  }
  if (version > MIGRATIONS.length) {
    throw new RegistryError(`${path} was written by a newer ChatP2P (schema ${version}); refusing to modify it`);
  }
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
  // Registrations are soft state renewed by every peer; NORMAL keeps WAL commits off fsync.
  db.exec('PRAGMA synchronous = NORMAL');
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.exec('BEGIN');
    db.exec(MIGRATIONS[v]!);
    db.exec(`PRAGMA user_version = ${v + 1}`);
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec('COMMIT');
  }
}
