// What every ChatP2P SQLite file shares: it is marked as ours (a foreign file is refused, never
// altered), held by one process, migrated step by step from its first schema, and written in one
// transaction per event-loop turn (group commit) with callbacks once the changes are committed.

import { closeSync, fstatSync, fsync, open as fsOpen } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

export interface SchemaSpec {
  /** Written to the file's header; a non-empty file without it is someone else's. */
  applicationId: number;
  /** Schema versions in order: entry i takes the file from version i to i + 1. Append only. */
  migrations: readonly string[];
  /** How errors name the file, e.g. "message history file". */
  description: string;
  /** Who holds the file while it is open, for the error a second opener gets. */
  holder: string;
  /**
   * FULL fsyncs every commit. NORMAL writes each commit to the WAL without an fsync: it survives
   * a crash or kill of the process, and only a power loss or an OS crash can lose it.
   */
  synchronous: 'FULL' | 'NORMAL';
  /**
   * With NORMAL: an fsync of the WAL follows every commit within this many ms, which bounds what
   * a power loss can take. Unset: the last commits are soft state.
   */
  syncWithinMs?: number;
  /** Page size of a file created from scratch (an existing file keeps its own); SQLite's default otherwise. */
  pageSize?: number;
}

/** Opens (creating if needed) and migrates `path`; throws a `Refusal` when it cannot be used. */
export function openDatabase(path: string, spec: SchemaSpec, Refusal: new (message: string) => Error): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    migrate(db, path, spec, (message) => new Refusal(message));
    return db;
  } catch (err) {
    if (db?.isOpen) db.close();
    if (err instanceof Refusal) throw err;
    throw new Refusal(`cannot open ${spec.description} ${path}: ${(err as Error).message}`);
  }
}

function migrate(db: DatabaseSync, path: string, spec: SchemaSpec, make: (message: string) => Error): void {
  // One process per file: each keeps state in memory that a second writer would contradict. Set
  // before the first WAL access, it also keeps the WAL index out of shared memory.
  db.exec('PRAGMA locking_mode = EXCLUSIVE');
  // Only a file not yet written takes it (the first lock below already fixes it); an existing
  // file, ours or not, keeps its own and is not touched.
  if (spec.pageSize !== undefined) db.exec(`PRAGMA page_size = ${spec.pageSize}`);
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (err) {
    if (/locked|busy/i.test((err as Error).message)) throw make(`${path} is in use by another ${spec.holder}`);
    throw err;
  }
  const pragma = (name: string) => Number((db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown>)[name]);
  const version = pragma('user_version');
  const appId = pragma('application_id');
  const tables = Number((db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n);
  if (appId !== spec.applicationId && (appId !== 0 || tables > 0)) {
    throw make(`${path} is not a ChatP2P ${spec.description}; refusing to modify it`);
  }
  if (version > spec.migrations.length) {
    throw make(`${path} was written by a newer ChatP2P (schema ${version}); refusing to modify it`);
  }
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${spec.synchronous}`);
  for (let v = version; v < spec.migrations.length; v++) {
    db.exec('BEGIN');
    try {
      db.exec(spec.migrations[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec(`PRAGMA application_id = ${spec.applicationId}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
}

/**
 * With a background fsync, SQLite's own checkpoints are off (each held the event loop for two
 * fsyncs every 1000 pages, a few hundred messages). The WAL is checkpointed once it holds
 * CHECKPOINT_QUIET_BYTES and no commit came for CHECKPOINT_QUIET_MS, and whatever the load once
 * it holds CHECKPOINT_MAX_BYTES (as PostgreSQL's max_wal_size bounds its WAL).
 */
const CHECKPOINT_QUIET_BYTES = 4 * 1024 * 1024;
const CHECKPOINT_QUIET_MS = 250;
const CHECKPOINT_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Writes made during one event-loop turn share one transaction, committed on the next turn: one
 * fsync for a burst of messages rather than one each. Statements run at once (their results and
 * errors reach the caller); `whenCommitted` runs a callback once everything so far is on disk.
 */
export class GroupCommit {
  private readonly db: DatabaseSync;
  private readonly onError: (err: Error) => void;
  private readonly durable: { withinMs: number; walPath: string } | undefined;
  private open = false;
  private callbacks: ((err?: Error) => void)[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private walFd: number | undefined;
  /** Callbacks of the fsync running now, and of the commits made since it started. */
  private syncing: (() => void)[] | undefined;
  private unsynced: (() => void)[] = [];
  private dirty = false;
  /** When the oldest commit not yet fsynced was made (performance.now()). */
  private dirtySince = 0;
  /** fsyncs of the WAL so far (bench:engine reports them). */
  fsyncs = 0;
  /** Commits so far: a quiet spell is one in which this did not change. */
  private commits = 0;
  private quietTimer: NodeJS.Timeout | undefined;

  /**
   * `durable`: for a file opened with synchronous NORMAL, the WAL is fsynced within `withinMs` of
   * every commit (the SchemaSpec's `syncWithinMs`).
   */
  constructor(db: DatabaseSync, onError: (err: Error) => void, durable?: { withinMs: number; walPath: string }) {
    this.db = db;
    this.onError = onError;
    this.durable = durable;
    if (durable !== undefined) db.exec('PRAGMA wal_autocheckpoint = 0');
  }

  run<T>(statement: () => T): T {
    if (!this.open) {
      this.db.exec('BEGIN');
      this.open = true;
      setImmediate(() => this.commit());
    }
    return statement();
  }

  /** Calls `done` once every change made so far is committed (with the error if that failed). */
  whenCommitted(done: (err?: Error) => void): void {
    if (!this.open) return done();
    this.callbacks.push(done);
  }

  /** Calls `done` once every commit so far is fsynced, so that a power loss cannot take it either. */
  whenSynced(done: () => void): void {
    this.commit();
    if (!this.dirty) return done();
    this.unsynced.push(done);
  }

  /** Commits now what is pending: for writes that must be durable before we answer, and on close. */
  commit(): Error | undefined {
    if (!this.open) return undefined;
    this.open = false;
    const callbacks = this.callbacks;
    this.callbacks = [];
    let error: Error | undefined;
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      error = err as Error;
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      this.onError(error);
    }
    if (error === undefined && this.durable !== undefined) {
      if (!this.dirty) this.dirtySince = performance.now();
      this.dirty = true;
      this.commits += 1;
      // While an fsync runs, its end arms the timer for what was committed meanwhile.
      if (this.syncing === undefined) this.armSync();
    }
    for (const done of callbacks) done(error);
    return error;
  }

  /**
   * Makes the commits so far survive a power loss without holding the event loop: an fsync of the
   * WAL in libuv's thread pool (F_FULLFSYNC on macOS). What a checkpoint moved out of the WAL was
   * fsynced by SQLite itself, in the database file.
   */
  private fsyncWal(): void {
    this.syncTimer = undefined;
    if (this.syncing !== undefined || !this.dirty) return;
    const walPath = this.durable!.walPath;
    const waiting = this.unsynced;
    this.unsynced = [];
    this.dirty = false;
    this.syncing = waiting;
    const done = (err: NodeJS.ErrnoException | null) => {
      if (err && err.code !== 'ENOENT') this.onError(new Error(`cannot fsync ${walPath}: ${err.message}`));
      this.syncing = undefined;
      for (const callback of waiting) callback();
      if (!err) this.checkpointIfDue();
      if (!this.db.isOpen) this.closeWal();
      else if (this.dirty) this.armSync();
    };
    this.fsyncs += 1;
    if (this.walFd !== undefined) return fsync(this.walFd, done);
    fsOpen(walPath, 'r+', (err, fd) => {
      if (err) return done(err);
      this.walFd = fd;
      fsync(fd, done);
    });
  }

  /**
   * The next fsync, withinMs after the oldest commit it is for, never at once: under a steady flood
   * one fsync after another would keep a core of a 2-core machine busy in the kernel (about 2,500
   * a second here), taking it from the event loop and from the peers.
   */
  private armSync(): void {
    if (this.syncTimer !== undefined) return;
    const delay = Math.max(0, this.dirtySince + this.durable!.withinMs - performance.now());
    this.syncTimer = setTimeout(() => this.fsyncWal(), delay);
    // Only a power loss needs it, and a process that ends unclosed has its WAL in the OS cache.
    this.syncTimer.unref();
  }

  /**
   * Just after an fsync, so that SQLite's own fsync of the WAL finds little to do. TRUNCATE leaves
   * the WAL empty, so its size is what the next checkpoint has to copy.
   */
  private checkpointIfDue(): void {
    if (!this.db.isOpen || this.walFd === undefined) return;
    const size = fstatSync(this.walFd).size;
    if (size >= CHECKPOINT_MAX_BYTES) return this.checkpoint();
    if (size < CHECKPOINT_QUIET_BYTES || this.quietTimer !== undefined) return;
    const seen = this.commits;
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      if (this.commits === seen) this.checkpoint();
      else this.checkpointIfDue();
    }, CHECKPOINT_QUIET_MS);
    this.quietTimer.unref();
  }

  private checkpoint(): void {
    if (!this.db.isOpen || this.open) return;
    try {
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /**
   * On close: commits what is pending and checkpoints, which fsyncs the WAL and then the database
   * file, so every commit survives a power loss from here on.
   */
  sync(): void {
    if (!this.db.isOpen || this.commit() !== undefined) return;
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    try {
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      this.dirty = false;
    } catch (err) {
      this.onError(err as Error);
    }
    for (const callback of this.unsynced.splice(0)) callback();
    if (this.syncing === undefined) this.closeWal();
  }

  private closeWal(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }
}
