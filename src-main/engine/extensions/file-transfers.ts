// File transfers over `chatp2p-files` (files.ts has the frames): offers and their answers, the
// chunked stream with a bounded window, verification, and resume. Every transfer lives in the
// profile's history (`MessageStore.saveTransfer`), so after a dropped connection or a restart of
// either side the sender offers it again and the receiver answers FILE_ACCEPT with the offset it
// has written and hashed: the stream goes on from there, not from zero.
//
// Memory stays flat whatever the size: the sender reads one block at a time and keeps at most
// WINDOW_BYTES per peer unacknowledged; the receiver holds at most one block before writing it.

import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, statSync } from 'node:fs';
import { open, rename, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import mime from 'mime-types';
import { EngineCommandError, OVER_MAX_SIZE, type FileTransfer, type TransferState } from '../api.ts';
import type { ModuleLogger } from '../log.ts';
import type { PeerConnection } from '../peers/connection.ts';
import type { MessageStore } from '../store/store.ts';
import { CHUNK_BYTES, FEATURE_FILES, formatSize, numberedName, safeFileName, type FileFrame } from './files.ts';

export interface FilesConfig {
  /** Where accepted files go unless the user picks a folder. */
  downloadDir: string;
  /** Offers over this many bytes are declined at once. */
  maxBytes: number;
  /** An offer nobody answers expires after this long. */
  offerTtlMs: number;
  /** Offers up to this many bytes from a verified peer are accepted without asking (0: never). */
  autoAcceptBytes: number;
}

/** Chunks the receiver buffers before one write (and one FILE_ACK). */
const WRITE_CHUNKS = 8;
/** Bytes read from the file at once: a whole number of chunks. */
const READ_BYTES = WRITE_CHUNKS * CHUNK_BYTES;
/** Bytes sent to one peer and not yet acknowledged, over all its transfers. */
export const WINDOW_BYTES = 8 * READ_BYTES;
/** Offers from one peer waiting for an answer; more are declined. */
const MAX_PENDING_OFFERS = 32;
const PROGRESS_EVERY_MS = 250;

const ENDED: ReadonlySet<TransferState> = new Set(['complete', 'declined', 'cancelled', 'expired', 'failed']);

interface Sending {
  conn: PeerConnection;
  file: FileHandle;
  /** Next byte to read and send. */
  next: number;
  reading: boolean;
}

interface Receiving {
  file: FileHandle;
  hash: Hash;
  /** Bytes written (and hashed): what FILE_ACK says. */
  written: number;
  /** Bytes received in order (written + buffered). */
  expected: number;
  buffered: Buffer[];
  bufferedBytes: number;
  /** The writes, one after another. */
  writing: Promise<void>;
}

interface Live {
  t: FileTransfer;
  expiry: NodeJS.Timeout | undefined;
  sending: Sending | undefined;
  receiving: Receiving | undefined;
  /** The receiver is reopening its `.part` (after a restart): answers wait for it. */
  preparing: Promise<void> | undefined;
  lastEmit: number;
  rate: { at: number; offset: number } | undefined;
}

export interface FileTransfersOptions {
  localPeerId: string;
  config: FilesConfig;
  store: MessageStore;
  log: ModuleLogger;
  now: () => number;
  connectionFor(peerId: string): PeerConnection | undefined;
  /** Keep (re)connecting to this peer: a transfer waits for it. */
  want(peerId: string): void;
  /** Whether this peer's identity is verified (a secure session); until then nothing is auto-accepted. */
  isVerified(peerId: string): boolean;
  onTransfer(transfer: FileTransfer): void;
}

export class FileTransfers {
  private readonly o: FileTransfersOptions;
  private readonly live = new Map<string, Live>();
  private closed = false;

  constructor(options: FileTransfersOptions) {
    this.o = options;
  }

  /** New settings from the user: offers that come and accepts made from now on follow them. */
  configure(config: Partial<FilesConfig>): void {
    Object.assign(this.o.config, config);
  }

  /** Loads what an earlier run left; returns the peers that unfinished transfers wait for. */
  resume(): string[] {
    const peers = new Set<string>();
    for (const t of this.o.store.transfers()) {
      const live = this.add(t);
      if (ENDED.has(t.state)) continue;
      if (t.state === 'offered') this.armExpiry(live);
      peers.add(t.peerId);
    }
    return [...peers];
  }

  list(): FileTransfer[] {
    return [...this.live.values()].map((l) => this.view(l));
  }

  get(id: string): FileTransfer | undefined {
    const live = this.live.get(id);
    return live && this.view(live);
  }

  /** Whether files can go to this peer now: its open connection negotiated chatp2p-files. */
  support(peerId: string): 'yes' | 'legacy' | 'offline' {
    const conn = this.o.connectionFor(peerId);
    if (!conn) return 'offline';
    return conn.extensions.has(FEATURE_FILES) ? 'yes' : 'legacy';
  }

  /** Hashes the file and offers it; it goes as soon as the peer is connected and accepts. */
  async offer(peerId: string, path: string): Promise<FileTransfer> {
    if (this.support(peerId) === 'legacy') throw new EngineCommandError(legacyReason(peerId), 'files-unsupported');
    const full = resolve(path);
    let size: number;
    try {
      const stat = statSync(full);
      if (!stat.isFile()) throw new EngineCommandError(`${path} is not a file`, 'file-unreadable');
      size = stat.size;
    } catch (err) {
      if (err instanceof EngineCommandError) throw err;
      throw new EngineCommandError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'file-unreadable');
    }
    const sha256 = await hashFile(full, size);
    const now = this.o.now();
    const name = basename(full);
    const t: FileTransfer = {
      id: randomUUID(),
      direction: 'out',
      peerId,
      name,
      size,
      mediaType: mime.lookup(name) || 'application/octet-stream',
      sha256,
      state: 'offered',
      offset: 0,
      path: full,
      error: undefined,
      at: now,
      expiresAt: now + this.o.config.offerTtlMs,
      bytesPerSecond: undefined,
    };
    const live = this.add(t);
    this.changed(live);
    this.armExpiry(live);
    this.o.log.info(`Offering ${name} (${formatSize(size)}) to ${peerId}`);
    const conn = this.o.connectionFor(peerId);
    if (conn?.extensions.has(FEATURE_FILES)) this.sendOffer(conn, t);
    else this.o.want(peerId);
    return this.view(live);
  }

  /** Accepts an incoming offer into `dir` (the download folder by default). */
  accept(id: string, dir?: string): FileTransfer {
    const live = this.incoming(id, 'offered', 'only an offer still waiting for an answer can be accepted');
    const folder = resolve(dir ?? this.o.config.downloadDir);
    let path: string;
    try {
      mkdirSync(folder, { recursive: true });
      path = reservePath(folder, safeFileName(live.t.name));
    } catch (err) {
      throw new EngineCommandError(`cannot write in ${folder}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'folder-unwritable');
    }
    clearTimeout(live.expiry);
    Object.assign(live.t, { state: 'transferring', path, offset: 0 } satisfies Partial<FileTransfer>);
    live.receiving = undefined;
    this.changed(live);
    this.o.log.info(`Accepted ${live.t.name} from ${live.t.peerId} into ${path}`);
    this.answerOffer(live);
    return this.view(live);
  }

  decline(id: string): FileTransfer {
    const live = this.incoming(id, 'offered', 'only an offer still waiting for an answer can be declined');
    this.end(live, 'declined', undefined);
    this.frame(live.t.peerId, { type: 'FILE_DECLINE', file_id: id });
    return this.view(live);
  }

  /** Stops a transfer from either side; the receiver's `.part` is removed. */
  cancel(id: string): FileTransfer {
    const live = this.live.get(id);
    if (!live || ENDED.has(live.t.state)) throw new EngineCommandError('only a transfer still under way can be cancelled', 'transfer-ended');
    this.end(live, 'cancelled', 'cancelled by us');
    this.frame(live.t.peerId, { type: 'FILE_CANCEL', file_id: id, reason: 'cancelled' });
    return this.view(live);
  }

  /** A connection opened: our unfinished offers go (again); the receiver answers where it stands. */
  onConnectionOpen(conn: PeerConnection): void {
    const peerId = conn.peerId!;
    for (const live of this.live.values()) {
      const t = live.t;
      if (t.peerId !== peerId || t.direction !== 'out' || ENDED.has(t.state)) continue;
      if (!conn.extensions.has(FEATURE_FILES)) {
        this.end(live, 'failed', legacyReason(peerId));
        continue;
      }
      this.stopSending(live);
      this.sendOffer(conn, t);
    }
  }

  onConnectionClosed(peerId: string): void {
    for (const live of this.live.values()) {
      if (live.t.peerId !== peerId || ENDED.has(live.t.state)) continue;
      if (live.sending) {
        this.stopSending(live);
        this.o.want(peerId);
      }
      if (live.t.state === 'transferring') this.emit(live, true);
    }
  }

  onFrame(conn: PeerConnection, frame: FileFrame): void {
    if (this.closed) return;
    const from = conn.peerId!;
    if (frame.kind === 'FILE_OFFER') {
      this.onOffer(conn, frame);
      return;
    }
    const live = this.live.get(frame.fileId);
    // Someone else's transfer id (or one we never had) is nothing to this peer.
    if (!live || live.t.peerId !== from) {
      this.o.log.debug(`${from}: ${frame.kind} for no transfer of ours with it`);
      return;
    }
    const t = live.t;
    if (frame.kind === 'FILE_CANCEL') {
      if (ENDED.has(t.state)) return;
      if (t.state === 'offered' && t.direction === 'in' && frame.reason === 'expired') this.end(live, 'expired', 'nobody answered the offer');
      else this.end(live, t.state === 'offered' && t.direction === 'out' ? 'declined' : 'cancelled', `cancelled by ${from}${frame.reason ? `: ${frame.reason}` : ''}`);
      return;
    }
    if (t.direction === 'out') this.onReceiverFrame(conn, live, frame);
    else this.onSenderFrame(live, frame);
  }

  /** Closes open files (the transfers stay in the history, to resume on the next start). */
  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const live of this.live.values()) {
      clearTimeout(live.expiry);
      this.stopSending(live);
      const r = live.receiving;
      if (r) closing.push(r.writing.then(() => r.file.close()).catch(() => undefined));
      live.receiving = undefined;
    }
    await Promise.all(closing);
  }

  // The sender's side: answers from the receiver.

  private onReceiverFrame(conn: PeerConnection, live: Live, frame: FileFrame): void {
    const t = live.t;
    switch (frame.kind) {
      case 'FILE_ACCEPT':
        if (ENDED.has(t.state)) return;
        if (frame.offset > t.size) {
          this.refuse(live, `${t.peerId} asked to resume past the end of the file`);
          return;
        }
        clearTimeout(live.expiry);
        t.state = 'transferring';
        t.offset = frame.offset;
        this.changed(live);
        void this.startSending(conn, live, frame.offset);
        return;
      case 'FILE_ACK': {
        const s = live.sending;
        if (!s || t.state !== 'transferring') return;
        if (frame.offset < t.offset || frame.offset > s.next) {
          this.refuse(live, `${t.peerId} acknowledged bytes we never sent`);
          return;
        }
        t.offset = frame.offset;
        this.progress(live);
        this.pumpPeer(t.peerId);
        return;
      }
      case 'FILE_DONE':
        if (t.state !== 'transferring' || (live.sending && live.sending.next < t.size)) return;
        t.offset = t.size;
        this.end(live, 'complete', undefined);
        this.o.log.info(`${t.name} delivered to ${t.peerId}, verified`);
        return;
      case 'FILE_DECLINE':
        if (t.state === 'offered') this.end(live, 'declined', `declined by ${t.peerId}${frame.reason ? `: ${frame.reason}` : ''}`);
        return;
      default:
        this.o.log.debug(`${t.peerId}: ${frame.kind} is not the receiver's to send`);
    }
  }

  private async startSending(conn: PeerConnection, live: Live, offset: number): Promise<void> {
    this.stopSending(live);
    const t = live.t;
    let file: FileHandle;
    try {
      file = await open(t.path!, 'r');
      if ((await file.stat()).size !== t.size) {
        await file.close();
        throw new Error('it changed since it was offered');
      }
    } catch (err) {
      this.refuse(live, `cannot read ${t.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return;
    }
    if (this.closed || conn.state !== 'open' || t.state !== 'transferring' || live.sending) {
      await file.close();
      return;
    }
    live.sending = { conn, file, next: offset, reading: false };
    live.rate = undefined;
    if (offset > 0) this.o.log.info(`Resuming ${t.name} to ${t.peerId} at ${formatSize(offset)}`);
    this.pumpPeer(t.peerId);
  }

  private stopSending(live: Live): void {
    const s = live.sending;
    if (!s) return;
    live.sending = undefined;
    // A read in progress closes it when it sees it was stopped.
    if (!s.reading) void s.file.close().catch(() => undefined);
  }

  /** Every transfer to this peer sends what its share of the window allows. */
  private pumpPeer(peerId: string): void {
    for (const live of this.live.values()) if (live.t.peerId === peerId && live.sending) void this.pump(live, live.sending);
  }

  private inFlight(peerId: string): number {
    let bytes = 0;
    for (const live of this.live.values()) if (live.t.peerId === peerId && live.sending) bytes += live.sending.next - live.t.offset;
    return bytes;
  }

  private async pump(live: Live, s: Sending): Promise<void> {
    if (s.reading) return;
    s.reading = true;
    const t = live.t;
    try {
      while (live.sending === s && s.conn.state === 'open' && s.next < t.size) {
        const room = WINDOW_BYTES - this.inFlight(t.peerId);
        if (room < Math.min(READ_BYTES, t.size - s.next)) break;
        const length = Math.min(READ_BYTES, t.size - s.next);
        const block = Buffer.allocUnsafe(length);
        const { bytesRead } = await s.file.read(block, 0, length, s.next);
        if (live.sending !== s || s.conn.state !== 'open') break;
        if (bytesRead !== length) throw new Error('it got shorter since it was offered');
        for (let at = 0; at < length; at += CHUNK_BYTES) {
          s.conn.sendFileChunk(t.id, s.next + at, block.subarray(at, at + CHUNK_BYTES));
        }
        s.next += length;
      }
    } catch (err) {
      if (live.sending === s) {
        s.reading = false;
        this.refuse(live, `cannot read ${t.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        return;
      }
    }
    s.reading = false;
    if (live.sending !== s) void s.file.close().catch(() => undefined);
  }

  // The receiver's side.

  private onOffer(conn: PeerConnection, offer: Extract<FileFrame, { kind: 'FILE_OFFER' }>): void {
    const from = conn.peerId!;
    const known = this.live.get(offer.fileId);
    if (known) {
      if (known.t.peerId !== from || known.t.direction !== 'in') {
        this.o.log.warn(`${from} offered a file under an id already in use: ignored`);
        return;
      }
      this.answerOffer(known);
      return;
    }
    const now = this.o.now();
    const pending = [...this.live.values()].filter((l) => l.t.peerId === from && l.t.state === 'offered').length;
    const ttl = Math.min(this.o.config.offerTtlMs, (offer.expiresIn ?? Infinity) * 1000);
    const t: FileTransfer = {
      id: offer.fileId,
      direction: 'in',
      peerId: from,
      name: offer.name,
      size: offer.size,
      mediaType: offer.mediaType,
      sha256: offer.sha256,
      state: 'offered',
      offset: 0,
      path: undefined,
      error: undefined,
      at: now,
      expiresAt: now + ttl,
      bytesPerSecond: undefined,
    };
    const live = this.add(t);
    const refusal =
      offer.size > this.o.config.maxBytes
        ? `${OVER_MAX_SIZE} (${formatSize(this.o.config.maxBytes)})`
        : pending >= MAX_PENDING_OFFERS
          ? `too many offers waiting (${MAX_PENDING_OFFERS})`
          : undefined;
    if (refusal !== undefined) {
      this.o.log.warn(`Declined ${JSON.stringify(offer.name)} from ${from}: ${refusal}`);
      t.state = 'declined';
      t.error = refusal;
      this.changed(live);
      conn.send({ type: 'FILE_DECLINE', file_id: t.id, reason: refusal, ttl: 1 });
      return;
    }
    this.o.log.info(`File offer ${t.id} from ${from}: ${JSON.stringify(offer.name)}, ${formatSize(offer.size)}`);
    this.armExpiry(live);
    this.changed(live);
    if (this.o.config.autoAcceptBytes > 0 && offer.size <= this.o.config.autoAcceptBytes && this.o.isVerified(from)) this.accept(t.id);
  }

  /** Tells the sender where we stand on an offer it (re)sent. */
  private answerOffer(live: Live): void {
    const t = live.t;
    switch (t.state) {
      case 'offered':
        return;
      case 'transferring':
        void this.prepare(live).then(
          () => {
            if (live.t.state === 'transferring' && live.receiving) this.frame(t.peerId, { type: 'FILE_ACCEPT', file_id: t.id, offset: live.receiving.written });
          },
          (err: Error) => this.refuse(live, `cannot write ${t.path}.part: ${(err as NodeJS.ErrnoException).code ?? err.message}`),
        );
        return;
      case 'complete':
        this.frame(t.peerId, { type: 'FILE_DONE', file_id: t.id });
        return;
      case 'declined':
        this.frame(t.peerId, { type: 'FILE_DECLINE', file_id: t.id, reason: t.error });
        return;
      default:
        this.frame(t.peerId, { type: 'FILE_CANCEL', file_id: t.id, reason: t.state });
    }
  }

  /**
   * Opens the `.part` and hashes what it holds up to the last offset we recorded: the bytes
   * before it are the ones the final SHA-256 goes on from.
   */
  private prepare(live: Live): Promise<void> {
    if (live.receiving) return live.receiving.writing;
    live.preparing ??= (async () => {
      const part = `${live.t.path}.part`;
      const file = await open(part, existsSync(part) ? 'r+' : 'w+');
      try {
        const onDisk = (await file.stat()).size;
        const keep = Math.min(onDisk, live.t.offset);
        if (onDisk > keep) await truncate(part, keep);
        const hash = createHash('sha256');
        const block = Buffer.allocUnsafe(READ_BYTES);
        for (let at = 0; at < keep; ) {
          const { bytesRead } = await file.read(block, 0, Math.min(block.length, keep - at), at);
          if (bytesRead === 0) throw new Error('the .part file got shorter');
          hash.update(block.subarray(0, bytesRead));
          at += bytesRead;
        }
        if (keep > 0) this.o.log.info(`Resuming ${live.t.name} from ${live.t.peerId} at ${formatSize(keep)}`);
        live.t.offset = keep;
        live.receiving = { file, hash, written: keep, expected: keep, buffered: [], bufferedBytes: 0, writing: Promise.resolve() };
      } catch (err) {
        await file.close();
        throw err;
      } finally {
        live.preparing = undefined;
      }
    })();
    return live.preparing;
  }

  private onSenderFrame(live: Live, frame: FileFrame): void {
    const t = live.t;
    if (frame.kind !== 'FILE_CHUNK') {
      this.o.log.debug(`${t.peerId}: ${frame.kind} is not the sender's to send`);
      return;
    }
    const r = live.receiving;
    if (t.state !== 'transferring' || !r) return;
    const end = frame.offset + frame.data.length;
    if (frame.data.length === 0 || frame.data.length > CHUNK_BYTES) return this.refuse(live, `${t.peerId} sent a chunk over the chunk size`);
    if (end > t.size) return this.refuse(live, `${t.peerId} sent more bytes than it offered`);
    // A chunk already received (an answer crossed a resume) is dropped; a gap is a lie.
    if (end <= r.expected) return;
    if (frame.offset !== r.expected) return this.refuse(live, `${t.peerId} skipped bytes of the file`);
    r.buffered.push(frame.data);
    r.bufferedBytes += frame.data.length;
    r.expected = end;
    if (r.bufferedBytes >= READ_BYTES || end === t.size) this.write(live, r);
  }

  /**
   * One block to the `.part`: hashed now (blocks come in order), written in the thread pool beside
   * the blocks before it, and acknowledged in order once it and every block before it are on disk.
   */
  private write(live: Live, r: Receiving): void {
    const chunks = r.buffered;
    const length = r.bufferedBytes;
    const at = r.expected - length;
    r.buffered = [];
    r.bufferedBytes = 0;
    const t = live.t;
    for (const chunk of chunks) r.hash.update(chunk);
    // One system call for the block, without copying its chunks together first.
    const written = r.file.writev(chunks, at).then(({ bytesWritten }) => {
      if (bytesWritten !== length) throw new Error(`only ${bytesWritten} of ${length} bytes written`);
    });
    // Awaited in the chain below; until then a failure must not count as unhandled.
    written.catch(() => undefined);
    r.writing = r.writing
      .then(async () => {
        await written;
        if (live.receiving !== r || this.closed) return;
        r.written = at + length;
        t.offset = r.written;
        this.progress(live);
        this.frame(t.peerId, { type: 'FILE_ACK', file_id: t.id, offset: r.written });
        if (r.written === t.size) await this.verify(live, r);
      })
      .catch((err: Error) => {
        if (live.receiving === r) this.refuse(live, `cannot write ${t.path}.part: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      });
  }

  /** Every byte is in: the name is given to the file only if the SHA-256 matches. */
  private async verify(live: Live, r: Receiving): Promise<void> {
    const t = live.t;
    const digest = r.hash.digest('hex');
    if (digest !== t.sha256) {
      this.refuse(live, `${t.name} from ${t.peerId} does not match its SHA-256: discarded`);
      return;
    }
    await r.file.sync();
    // Cancelled while it synced: end() closes the file and removes the .part.
    if (live.receiving !== r) return;
    live.receiving = undefined;
    await r.file.close();
    const final = freePath(t.path!);
    await rename(`${t.path}.part`, final);
    if (ENDED.has(t.state)) {
      // Cancelled in the last step: what the user stopped is not left behind.
      await unlink(final).catch(() => undefined);
      return;
    }
    t.path = final;
    this.end(live, 'complete', undefined);
    this.frame(t.peerId, { type: 'FILE_DONE', file_id: t.id });
    this.o.log.info(`${t.name} received from ${t.peerId}, verified: ${final}`);
  }

  // Shared.

  /** Ends a transfer because of the peer or the file: the peer is told, a `.part` is removed. */
  private refuse(live: Live, reason: string): void {
    if (ENDED.has(live.t.state)) return;
    this.o.log.warn(reason);
    this.end(live, 'failed', reason);
    this.frame(live.t.peerId, { type: 'FILE_CANCEL', file_id: live.t.id, reason });
  }

  private end(live: Live, state: TransferState, error: string | undefined): void {
    clearTimeout(live.expiry);
    this.stopSending(live);
    const t = live.t;
    t.state = state;
    t.error = error;
    if (t.direction === 'in' && state !== 'complete' && t.path !== undefined) {
      const r = live.receiving;
      live.receiving = undefined;
      const part = `${t.path}.part`;
      const removed = (r ? r.writing.then(() => r.file.close()) : Promise.resolve()).then(() => unlink(part));
      removed.catch(() => undefined);
    }
    this.changed(live);
  }

  private armExpiry(live: Live): void {
    clearTimeout(live.expiry);
    live.expiry = setTimeout(
      () => {
        if (live.t.state !== 'offered') return;
        this.o.log.info(`Offer ${live.t.id} (${live.t.name}) expired unanswered`);
        this.end(live, 'expired', 'nobody answered the offer');
        if (live.t.direction === 'out') this.frame(live.t.peerId, { type: 'FILE_CANCEL', file_id: live.t.id, reason: 'expired' });
      },
      Math.max(0, live.t.expiresAt - this.o.now()),
    );
    live.expiry.unref();
  }

  private sendOffer(conn: PeerConnection, t: FileTransfer): void {
    const expiresIn = Math.max(1, Math.ceil((t.expiresAt - this.o.now()) / 1000));
    conn.send({ type: 'FILE_OFFER', file_id: t.id, name: t.name, size: t.size, media_type: t.mediaType, sha256: t.sha256, expires_in: expiresIn, ttl: 1 });
  }

  private frame(peerId: string, frame: Record<string, unknown>): void {
    const conn = this.o.connectionFor(peerId);
    if (conn?.extensions.has(FEATURE_FILES)) conn.send({ ...frame, ttl: 1 });
  }

  private incoming(id: unknown, state: TransferState, refusal: string): Live {
    const live = typeof id === 'string' ? this.live.get(id) : undefined;
    if (!live || live.t.direction !== 'in' || live.t.state !== state) throw new EngineCommandError(refusal, 'transfer-ended');
    return live;
  }

  private add(t: FileTransfer): Live {
    const live: Live = { t, expiry: undefined, sending: undefined, receiving: undefined, preparing: undefined, lastEmit: 0, rate: undefined };
    this.live.set(t.id, live);
    return live;
  }

  private save(live: Live): void {
    if (!this.closed) this.o.store.saveTransfer(live.t);
  }

  /** A state change: saved and shown at once. */
  private changed(live: Live): void {
    this.save(live);
    this.emit(live, true);
  }

  /** Progress: saved with the next commit, shown a few times a second. */
  private progress(live: Live): void {
    this.save(live);
    this.emit(live, live.t.offset === live.t.size);
  }

  private emit(live: Live, always: boolean): void {
    const now = this.o.now();
    if (!always && now - live.lastEmit < PROGRESS_EVERY_MS) return;
    live.lastEmit = now;
    this.o.onTransfer(this.view(live));
  }

  private view(live: Live): FileTransfer {
    const t = live.t;
    const now = this.o.now();
    let bytesPerSecond: number | undefined;
    if (t.state === 'transferring') {
      const rate = live.rate;
      if (rate && now > rate.at) bytesPerSecond = ((t.offset - rate.offset) * 1000) / (now - rate.at);
      if (!rate || now - rate.at > 2000) live.rate = { at: now, offset: t.offset };
    }
    return { ...t, bytesPerSecond };
  }
}

function legacyReason(peerId: string): string {
  return `${peerId} uses a client without file transfer (chatp2p-files): files cannot be sent to it`;
}

/** SHA-256 of a file, streamed. */
function hashFile(path: string, size: number): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const hash = createHash('sha256');
    let read = 0;
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => {
        read += chunk.length;
        hash.update(chunk);
      })
      .on('error', (err: NodeJS.ErrnoException) => reject(new EngineCommandError(`cannot read ${path}: ${err.code ?? err.message}`, 'file-unreadable')))
      .on('end', () => (read === size ? resolveHash(hash.digest('hex')) : reject(new EngineCommandError(`${path} changed while it was read`, 'file-unreadable'))));
  });
}

/** The first `name (n)` in `dir` with neither the file nor its `.part`; its `.part` is created, so a second offer cannot take it. */
function reservePath(dir: string, name: string): string {
  for (let n = 0; ; n++) {
    const path = join(dir, numberedName(name, n));
    if (existsSync(path)) continue;
    try {
      closeSync(openSync(`${path}.part`, 'wx'));
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** `path`, or the next free `name (n)` beside it if something took that name meanwhile: never overwrite. */
function freePath(path: string): string {
  const dir = resolve(path, '..');
  const name = basename(path);
  for (let n = 0; ; n++) {
    const candidate = join(dir, numberedName(name, n));
    if (!existsSync(candidate)) return candidate;
  }
}
