import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { GroupCommit, openDatabase, type SchemaSpec } from '../engine/store/sqlite-file.ts';
import type { PeerEntry } from './backend.ts';

/** One registration. Immutable: registering again replaces the object. */
export interface PeerRecord extends PeerEntry {
  /** Epoch milliseconds of the last REGISTER. */
  readonly registeredAt: number;
}

export class RegistryError extends Error {}

const REGISTRY_SCHEMA: SchemaSpec = {
  // 'CP2R' marks the file as ours, so a foreign SQLite database is refused instead of altered.
  applicationId: 0x43503252,
  description: 'rendezvous database',
  holder: 'rendezvous server',
  // Registrations are soft state renewed by every peer; NORMAL keeps WAL commits off fsync.
  synchronous: 'NORMAL',
  migrations: [
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
  ],
};

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
  private readonly batch: GroupCommit;
  private nextSeq = 0;

  /** `path` is a file, or ':memory:' for a registry that does not outlive the process. */
  constructor(path: string, now: number) {
    this.db = openDatabase(path, REGISTRY_SCHEMA, RegistryError);
    // A failed commit reaches the callers waiting in whenCommitted, which answer with an error.
    this.batch = new GroupCommit(this.db, () => undefined);
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
    this.batch.whenCommitted(done);
  }

  close(): void {
    if (!this.db.isOpen) return;
    this.batch.commit();
    this.db.close();
  }

  private write(statement: () => void): void {
    this.batch.run(statement);
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
