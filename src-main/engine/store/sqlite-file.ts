// What every ChatP2P SQLite file shares: it is marked as ours (a foreign file is refused, never
// altered), held by one process, migrated step by step from its first schema, and written in one
// transaction per event-loop turn (group commit) with callbacks once the changes are committed.

import { closeSync, fstatSync, fsync, open as fsOpen } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

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
  /**
   * Checkpoints run in a worker thread with a connection of its own (GroupCommit), so that their
   * fsyncs never hold the event loop. The file then cannot be in exclusive locking mode, so one
   * process per file is kept by a lock file beside it (`<file>-lock`) instead.
   */
  checkpointInWorker?: boolean;
}

/** The lock file of each database opened with checkpointInWorker, closed with it (closeDatabase). */
const lockFiles = new WeakMap<DatabaseSync, DatabaseSync>();

/** Opens (creating if needed) and migrates `path`; throws a `Refusal` when it cannot be used. */
export function openDatabase(path: string, spec: SchemaSpec, Refusal: new (message: string) => Error): DatabaseSync {
  let db: DatabaseSync | undefined;
  let lock: DatabaseSync | undefined;
  const make = (message: string) => new Refusal(message);
  try {
    const shared = spec.checkpointInWorker === true && path !== ':memory:';
    db = new DatabaseSync(path);
    // One process per file: each keeps state in memory that a second writer would contradict. The
    // lock file comes once the file is known to be ours, so that a refused one gets nothing beside it.
    migrate(db, path, spec, make, shared ? () => (lock = holdExclusively(new DatabaseSync(`${path}-lock`), path, spec, make)) : undefined);
    if (lock) lockFiles.set(db, lock);
    return db;
  } catch (err) {
    if (db?.isOpen) db.close();
    if (lock?.isOpen) lock.close();
    if (err instanceof Refusal) throw err;
    throw new Refusal(`cannot open ${spec.description} ${path}: ${(err as Error).message}`);
  }
}

/** Closes a database from openDatabase, and its lock file if it has one. */
export function closeDatabase(db: DatabaseSync): void {
  if (db.isOpen) db.close();
  lockFiles.get(db)?.close();
}

/**
 * Takes `db`'s file for this connection alone until it closes (SQLite's exclusive locking mode:
 * the lock goes with the process, however it ends). `path` and `spec` name it in the refusal.
 */
function holdExclusively(db: DatabaseSync, path: string, spec: SchemaSpec, make: (message: string) => Error): DatabaseSync {
  db.exec('PRAGMA locking_mode = EXCLUSIVE');
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (/locked|busy/i.test((err as Error).message)) throw make(`${path} is in use by another ${spec.holder}`);
    throw err;
  }
  return db;
}

/** `lock`: takes the lock file before the first write; without it the file itself is held exclusively. */
function migrate(db: DatabaseSync, path: string, spec: SchemaSpec, make: (message: string) => Error, lock: (() => void) | undefined): void {
  // Set before the first WAL access, exclusive mode also keeps the WAL index out of shared memory.
  if (lock === undefined) db.exec('PRAGMA locking_mode = EXCLUSIVE');
  // Only a file not yet written takes it (the first lock below already fixes it); an existing
  // file, ours or not, keeps its own and is not touched.
  if (spec.pageSize !== undefined) db.exec(`PRAGMA page_size = ${spec.pageSize}`);
  if (lock === undefined) holdExclusively(db, path, spec, make);
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
  lock?.();
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
 * fsyncs every 1000 pages, a few hundred messages): a worker thread with a connection of its own
 * copies the WAL into the database file (a PASSIVE checkpoint, which never waits for our writes),
 * at most every CHECKPOINT_EVERY_MS while we commit. Once a pass has copied every frame, our next
 * commit starts the WAL again from the beginning of the same file. Under a flood no pass catches
 * up (we commit while it runs): once the WAL holds CHECKPOINT_MAX_BYTES, the event loop finishes
 * what the last pass left and starts the WAL over (as PostgreSQL's max_wal_size bounds its WAL).
 * The file keeps the size it reached until the history is closed.
 */
const CHECKPOINT_EVERY_MS = 250;
const CHECKPOINT_MAX_BYTES = 256 * 1024 * 1024;
/** How long closing waits for a checkpoint pass still running in the worker. */
const CHECKPOINTER_CLOSE_MS = 10_000;

/**
 * The checkpointer thread: its own connection to the file, one PASSIVE checkpoint per request.
 * Source rather than a module file, so that it runs the same from the sources and from the
 * bundled main of the desktop app.
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    Atomics.store(workerData.closed, 0, 1);
    Atomics.notify(workerData.closed, 0);
    parentPort.close();
    return;
  }
  const started = performance.now();
  try {
    const { busy, log, checkpointed } = checkpoint.get();
    parentPort.postMessage({ busy, log, checkpointed, ms: performance.now() - started });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message), ms: performance.now() - started });
  }
});
`;

interface PassResult {
  busy?: number;
  log?: number;
  checkpointed?: number;
  error?: string;
  ms: number;
}

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
  /**
   * What the background durability has done so far (bench:engine reports it): checkpoints on the
   * event loop, and passes of the checkpointer thread.
   */
  readonly stats = { fsyncs: 0, checkpoints: 0, longestCheckpointMs: 0, passes: 0, longestPassMs: 0 };
  private checkpointer: { worker: Worker; closed: Int32Array; running: boolean } | undefined;
  /** Something was committed since the last checkpoint pass started. */
  private uncopied = false;
  private lastPassAt = -Infinity;
  private passTimer: NodeJS.Timeout | undefined;
  /** Bytes in the WAL as the last checkpoint saw them: the file is reused, so its size does not say. */
  private walBytes = 0;
  private pageBytes = 0;

  /**
   * `durable`: for a file opened with synchronous NORMAL and checkpointInWorker, the WAL is fsynced
   * within `withinMs` of every commit (the SchemaSpec's `syncWithinMs`), and checkpointed by a
   * thread of its own.
   */
  constructor(db: DatabaseSync, onError: (err: Error) => void, durable?: { withinMs: number; path: string }) {
    this.db = db;
    this.onError = onError;
    this.durable = durable && { withinMs: durable.withinMs, walPath: `${durable.path}-wal` };
    if (durable === undefined) return;
    db.exec('PRAGMA wal_autocheckpoint = 0');
    this.pageBytes = Number((db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size);
    const closed = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(CHECKPOINTER_SOURCE, { eval: true, workerData: { path: durable.path, closed } });
    // It never keeps the process alive: an unclosed file is whole anyway (WAL and all).
    worker.unref();
    const checkpointer = { worker, closed, running: false };
    worker.on('message', (result: PassResult) => this.passDone(result));
    worker.on('error', (err) => {
      // Checkpoints come back to the event loop, at CHECKPOINT_MAX_BYTES.
      this.onError(new Error(`checkpointer thread: ${err.message}`));
      if (this.checkpointer === checkpointer) this.checkpointer = undefined;
    });
    this.checkpointer = checkpointer;
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
      this.uncopied = true;
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
    this.stats.fsyncs += 1;
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
   * Just after an fsync, so that the checkpoint's own fsync of the WAL finds little to do: a pass
   * of the checkpointer, or on the event loop once the WAL has outgrown CHECKPOINT_MAX_BYTES.
   */
  private checkpointIfDue(): void {
    if (!this.db.isOpen || this.walFd === undefined) return;
    const bytes = this.checkpointer === undefined ? fstatSync(this.walFd).size : this.walBytes;
    if (bytes >= CHECKPOINT_MAX_BYTES) return this.checkpoint();
    this.requestPass();
  }

  /** Asks the checkpointer for a pass, CHECKPOINT_EVERY_MS after the last one at the soonest. */
  private requestPass(): void {
    const checkpointer = this.checkpointer;
    if (checkpointer === undefined || checkpointer.running || !this.uncopied || this.passTimer !== undefined) return;
    const wait = this.lastPassAt + CHECKPOINT_EVERY_MS - performance.now();
    if (wait > 0) {
      this.passTimer = setTimeout(() => {
        this.passTimer = undefined;
        this.requestPass();
      }, wait);
      this.passTimer.unref();
      return;
    }
    checkpointer.running = true;
    this.uncopied = false;
    this.lastPassAt = performance.now();
    checkpointer.worker.postMessage('checkpoint');
  }

  private passDone(result: PassResult): void {
    if (this.checkpointer) this.checkpointer.running = false;
    this.stats.passes += 1;
    this.stats.longestPassMs = Math.max(this.stats.longestPassMs, result.ms);
    if (result.error !== undefined) this.onError(new Error(`checkpoint: ${result.error}`));
    // Frames of page and header each.
    if (result.log !== undefined) this.walBytes = result.log * (this.pageBytes + 24);
    // What came while it ran gets the next pass (after the fsync that covers it, or by itself).
    if (this.db.isOpen && this.uncopied && !this.dirty) this.requestPass();
  }

  /**
   * On the event loop, which it holds: at CHECKPOINT_MAX_BYTES. With a checkpointer, RESTART
   * rather than TRUNCATE: the WAL starts over in the same file, since cutting a file of that size
   * costs more than the rest (busy while a pass runs: the next fsync tries again).
   */
  private checkpoint(): void {
    if (!this.db.isOpen || this.open) return;
    const started = performance.now();
    try {
      const mode = this.checkpointer === undefined ? 'TRUNCATE' : 'RESTART';
      const { busy } = this.db.prepare(`PRAGMA wal_checkpoint(${mode})`).get() as { busy: number };
      if (busy === 0) this.walBytes = 0;
    } catch (err) {
      this.onError(err as Error);
    }
    this.stats.checkpoints += 1;
    this.stats.longestCheckpointMs = Math.max(this.stats.longestCheckpointMs, performance.now() - started);
  }

  /** Ends the checkpointer thread, waiting for a pass it is running (a checkpoint may not overlap it). */
  private stopCheckpointer(): void {
    const checkpointer = this.checkpointer;
    if (checkpointer === undefined) return;
    this.checkpointer = undefined;
    clearTimeout(this.passTimer);
    this.passTimer = undefined;
    checkpointer.worker.postMessage('close');
    if (Atomics.wait(checkpointer.closed, 0, 0, CHECKPOINTER_CLOSE_MS) === 'timed-out') {
      this.onError(new Error('the checkpointer thread did not finish within 10 s'));
    }
    void checkpointer.worker.terminate();
  }

  /**
   * On close: commits what is pending and checkpoints, which fsyncs the WAL and then the database
   * file, so every commit survives a power loss from here on.
   */
  sync(): void {
    if (!this.db.isOpen || this.commit() !== undefined) return;
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.stopCheckpointer();
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
