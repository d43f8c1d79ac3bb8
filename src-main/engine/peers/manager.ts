// The peer table: who is out there (from DISCOVER and from inbound HELLOs), which connection we
// hold with each, and when to dial again. One open connection per peer_id, whoever dialed.

import { createServer, connect, type Server, type Socket } from 'node:net';
import type { PeerState, PeerView } from '../api.ts';
import type { ConnectionPolicy, EngineConfig } from '../config.ts';
import type { ModuleLogger } from '../log.ts';
import type { DiscoveredPeer } from '../rendezvous/session.ts';
import { nameOf, namespaceOf, type PeerMessage } from '../wire/messages.ts';
import { DialQueue, HandshakeAdmission } from './admission.ts';
import { PeerConnection, type CloseInfo, type ConnectionTimers, type SecureOptions } from './connection.ts';

interface PeerRecord {
  peerId: string;
  address: { ip: string; port: number } | undefined;
  /** The open connection (or the one saying BYE). */
  conn: PeerConnection | undefined;
  /** Our outbound connection while it waits for HELLO_OK. */
  dialing: PeerConnection | undefined;
  state: PeerState;
  direction: 'inbound' | 'outbound' | undefined;
  attempts: number;
  retryTimer: NodeJS.Timeout | undefined;
  nextRetryAt: number | undefined;
  lastError: string | undefined;
  /** The oddities of this peer already logged (PROTOCOL.md §4): each is said once. */
  quirks: Set<string>;
}

/** The bounds on what peers can make us hold (see EngineConfig.network). */
export type PeerLimits = Pick<EngineConfig['network'], 'maxPendingHandshakes' | 'maxPendingPerIp' | 'maxConnectionsPerIp' | 'maxWriteQueueBytes' | 'maxConcurrentDials'>;

/** What the peer layer holds right now: for tests, benchmarks and the log. */
export interface PeerManagerStats {
  /** Inbound connections that have not said HELLO yet. */
  pendingHandshakes: number;
  /** The most there ever were at once. */
  peakPendingHandshakes: number;
  /** Inbound connections, before and after HELLO. */
  inbound: number;
  open: number;
  /** Connections refused at accept since the start (over a per-IP cap). */
  refused: number;
  /** Pending handshakes closed since the start to make room for a newcomer (the global cap). */
  evicted: number;
  /** Our dials waiting for a HELLO_OK now, and those waiting their turn (max_concurrent_dials). */
  dialing: number;
  dialsQueued: number;
  peakDialing: number;
  /** Refused sockets still closing. */
  refusing: number;
  /** Bytes queued now for the peer with the most. */
  maxQueuedBytes: number;
  /** The most bytes ever queued for one peer. */
  peakQueuedBytes: number;
}

/** Refused sockets closed politely at once; past this many, a flood's sockets are just destroyed. */
const MAX_REFUSING = 4096;
/** How long a refused socket may take to close its side before it is destroyed. */
const REFUSE_LINGER_MS = 1000;
/** One refusal is logged per this period; the rest are counted into one line. */
const REFUSAL_LOG_PERIOD_MS = 1000;

/** A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d: one host, one key. */
const plainIp = (address: string) => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

export interface PeerManagerOptions {
  localPeerId: string;
  listenHost: string;
  listenPort: number;
  timers: ConnectionTimers;
  limits: PeerLimits;
  policy: ConnectionPolicy;
  maxReconnectAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  log: ModuleLogger;
  now: () => number;
  random?: () => number;
  /** `chatp2p-secure`: our identity key and the trust decisions; without it, every connection is plain. */
  secure?: SecureOptions;
  onPeer(view: PeerView): void;
  onPeerRemoved(peerId: string): void;
  onOpen(peerId: string): void;
  /** The open connection with this peer closed. */
  onClose(peerId: string): void;
  /** No connection with this peer is coming (it left, or dials are exhausted): why. */
  onUnreachable(peerId: string, reason: string): void;
  onMessage(conn: PeerConnection, message: PeerMessage): void;
  onInvalidFrame(): void;
}

export class PeerManager {
  private readonly o: PeerManagerOptions;
  private readonly records = new Map<string, PeerRecord>();
  /** Peers outside our namespace that we message: the `namespace` policy dials them too. */
  private readonly messaged = new Set<string>();
  /** Our own dials we cancelled because the peer's simultaneous dial won. */
  private readonly aborted = new WeakSet<PeerConnection>();
  /** Inbound connections not yet past HELLO, and inbound connections per IP. */
  private readonly admission: HandshakeAdmission<PeerConnection>;
  private readonly dials: DialQueue<PeerRecord>;
  private evictedCount = 0;
  /** Every connection not yet closed, inbound or outbound. */
  private readonly live = new Set<PeerConnection>();
  private peakQueued = 0;
  private readonly refusing = new Set<Socket>();
  private refusedCount = 0;
  private refusalLog: { timer: NodeJS.Timeout; more: number; reason: string } | undefined;
  private server: Server | undefined;
  private stopping = false;
  private readonly random: () => number;

  constructor(options: PeerManagerOptions) {
    this.o = options;
    this.random = options.random ?? Math.random;
    this.admission = new HandshakeAdmission(options.limits);
    this.dials = new DialQueue(options.limits.maxConcurrentDials);
  }

  /** Starts accepting peers; resolves with the bound port (the configured one, or a free one for 0). */
  listen(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'EADDRINUSE' ? `port ${this.o.listenPort} is already in use on ${this.o.listenHost}` : `cannot listen on ${this.o.listenHost}:${this.o.listenPort}: ${err.message}`, { cause: err })),
      );
      server.listen(this.o.listenPort, this.o.listenHost, () => {
        server.on('error', (err) => this.o.log.error(`listening socket: ${err.message}`));
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  get(peerId: string): PeerView | undefined {
    const rec = this.records.get(peerId);
    return rec && this.view(rec);
  }

  list(): PeerView[] {
    return [...this.records.values()].map((r) => this.view(r));
  }

  openConnection(peerId: string): PeerConnection | undefined {
    const conn = this.records.get(peerId)?.conn;
    return conn?.state === 'open' ? conn : undefined;
  }

  openConnections(): PeerConnection[] {
    return [...this.records.values()].flatMap((r) => (r.conn?.state === 'open' ? [r.conn] : []));
  }

  /** Merges a DISCOVER answer: new peers are dialed, peers no longer listed are forgotten. */
  updateDiscovered(peers: DiscoveredPeer[]): void {
    const listed = new Map<string, DiscoveredPeer>();
    for (const p of peers) {
      if (p.peerId === this.o.localPeerId) continue;
      const prev = listed.get(p.peerId);
      if (!prev || p.expiresIn > prev.expiresIn) listed.set(p.peerId, p);
    }
    for (const p of listed.values()) {
      const rec = this.record(p.peerId);
      const moved = rec.address !== undefined && (rec.address.ip !== p.ip || rec.address.port !== p.port);
      rec.address = { ip: p.ip, port: p.port };
      // A failed peer that registered again at a new address deserves a fresh start.
      if (moved && rec.state === 'failed') this.resetFailures(rec);
      if (this.wanted(rec) && rec.state === 'closed' && !rec.conn && !rec.dialing) this.dial(rec);
      else this.emit(rec);
    }
    for (const rec of this.records.values()) {
      if (listed.has(rec.peerId)) continue;
      rec.address = undefined;
      if (!rec.conn && !rec.dialing) this.forget(rec);
    }
  }

  /** A peer we are about to message: dial it if the policy had left it alone. */
  want(peerId: string): void {
    this.messaged.add(peerId);
    const rec = this.records.get(peerId);
    if (!rec) return;
    if (rec.state === 'failed') this.resetFailures(rec);
    if (rec.state === 'closed' && rec.address) this.dial(rec);
  }

  /** The `reconnect` command: clears failures and dials now (one peer, or every known one). */
  reconnect(peerId?: string): void {
    for (const rec of peerId === undefined ? this.records.values() : [this.records.get(peerId)].filter((r) => r !== undefined)) {
      if (rec.conn || rec.dialing || !rec.address) continue;
      this.resetFailures(rec);
      this.dial(rec);
    }
  }

  stats(): PeerManagerStats {
    let maxQueuedBytes = 0;
    let peak = this.peakQueued;
    for (const conn of this.live) {
      maxQueuedBytes = Math.max(maxQueuedBytes, conn.queuedBytes);
      peak = Math.max(peak, conn.peakQueuedBytes);
    }
    return {
      pendingHandshakes: this.admission.pending,
      peakPendingHandshakes: this.admission.peakPending,
      inbound: this.admission.inboundCount,
      open: this.openConnections().length,
      refused: this.refusedCount,
      evicted: this.evictedCount,
      dialing: this.dials.dialing,
      dialsQueued: this.dials.queued,
      peakDialing: this.dials.peakDialing,
      refusing: this.refusing.size,
      maxQueuedBytes,
      peakQueuedBytes: peak,
    };
  }

  /** BYE to every open connection (each waits for its BYE_OK), then nothing is left open. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.server?.close();
    for (const socket of this.refusing) socket.destroy();
    this.flushRefusalLog();
    this.dials.clear();
    const closing: Promise<unknown>[] = [];
    for (const rec of this.records.values()) {
      clearTimeout(rec.retryTimer);
      rec.retryTimer = undefined;
      rec.dialing?.destroy('local', 'shutting down');
      if (rec.conn) closing.push(rec.conn.close('shutting down'));
    }
    for (const conn of this.admission.pendingConnections()) conn.destroy('local', 'shutting down');
    await Promise.all(closing);
  }

  private record(peerId: string): PeerRecord {
    let rec = this.records.get(peerId);
    if (!rec) {
      rec = {
        peerId,
        address: undefined,
        conn: undefined,
        dialing: undefined,
        state: 'closed',
        direction: undefined,
        attempts: 0,
        retryTimer: undefined,
        nextRetryAt: undefined,
        lastError: undefined,
        quirks: new Set(),
      };
      this.records.set(peerId, rec);
    }
    return rec;
  }

  private wanted(rec: PeerRecord): boolean {
    return this.o.policy === 'all' || namespaceOf(rec.peerId) === namespaceOf(this.o.localPeerId) || this.messaged.has(rec.peerId);
  }

  /** Dials now if fewer than max_concurrent_dials are in flight, else once one ends. */
  private dial(rec: PeerRecord): void {
    if (this.stopping || rec.conn || rec.dialing || !rec.address) return;
    clearTimeout(rec.retryTimer);
    rec.retryTimer = undefined;
    rec.nextRetryAt = undefined;
    rec.state = 'connecting';
    this.dials.request(rec, () => this.startDial(rec));
    if (!rec.dialing) this.emit(rec);
  }

  private startDial(rec: PeerRecord): boolean {
    if (this.stopping || rec.conn || rec.dialing || !rec.address || this.records.get(rec.peerId) !== rec) return false;
    const { ip, port } = rec.address;
    this.o.log.debug(`Dialing ${rec.peerId} at ${ip}:${port}`);
    const socket = connect({ host: ip, port });
    const conn = this.connection(socket, 'outbound', rec.peerId);
    socket.once('connect', () => conn.sendHello());
    rec.dialing = conn;
    rec.state = 'connecting';
    this.emit(rec);
    return true;
  }

  /** Our dial with this peer is over, whichever way: the next waiting one may go. */
  private endDial(rec: PeerRecord): void {
    rec.dialing = undefined;
    this.dials.done(rec);
  }

  private connection(socket: Socket, direction: 'inbound' | 'outbound', expectedPeerId: string | undefined): PeerConnection {
    const conn = new PeerConnection({
      socket,
      direction,
      expectedPeerId,
      localPeerId: this.o.localPeerId,
      timers: this.o.timers,
      maxWriteQueueBytes: this.o.limits.maxWriteQueueBytes,
      log: this.o.log,
      now: this.o.now,
      secure: this.o.secure,
      hooks: {
        admit: (conn, peerId) => this.admit(conn, peerId),
        opened: (conn) => this.opened(conn),
        quirk: (conn, what) => {
          const quirks = conn.peerId === undefined ? undefined : this.records.get(conn.peerId)?.quirks;
          if (quirks?.has(what)) return;
          quirks?.add(what);
          this.o.log.info(`${conn.label} ${what}`);
        },
        message: (conn, message) => this.o.onMessage(conn, message),
        rtt: (conn) => {
          const rec = conn.peerId === undefined ? undefined : this.records.get(conn.peerId);
          if (rec?.conn === conn) this.emit(rec);
        },
        invalidFrame: () => this.o.onInvalidFrame(),
        closed: (conn, info) => {
          this.live.delete(conn);
          this.peakQueued = Math.max(this.peakQueued, conn.peakQueuedBytes);
          this.admission.settle(conn);
          this.closed(conn, info);
        },
      },
    });
    this.live.add(conn);
    return conn;
  }

  /**
   * A new inbound socket. Over a per-IP cap it is refused before a byte is read, as nginx or
   * OpenSSH refuse past their connection limits, so that a flood can hold neither memory nor
   * sockets. With every handshake slot taken, it takes the place of the oldest pending connection
   * of the IP holding the most (admission.ts): a slot is a turn to say HELLO, not a lock.
   */
  private accept(socket: Socket): void {
    if (this.stopping || socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const ip = plainIp(socket.remoteAddress);
    const admission = this.admission.decide(ip);
    if (admission.kind === 'refuse') {
      this.refuse(socket, ip, admission.reason);
      return;
    }
    if (admission.evict) {
      this.evictedCount += 1;
      const reason = `${this.o.limits.maxPendingHandshakes} handshakes already pending (max_pending_handshakes)`;
      this.logRefusal(`Evicted the pending connection from ${admission.evict.remoteAddress} for a newcomer from ${ip}: ${reason}`, reason);
      admission.evict.destroy('rejected', 'evicted: max_pending_handshakes');
    }
    const conn = this.connection(socket, 'inbound', undefined);
    this.admission.add(conn, ip);
    void conn.closed.then(() => this.admission.release(ip));
  }

  /**
   * Closes a socket we will not serve, without a word: PROTOCOL.md defines no refusal message, and
   * closing before answering is what peers do to a dial they do not want (§4). What the peer already
   * sent is read and dropped, so that it sees an orderly end rather than a reset.
   */
  private refuse(socket: Socket, ip: string, reason: string): void {
    this.refusedCount += 1;
    this.logRefusal(`Refused a connection from ${ip}:${socket.remotePort ?? '?'}: ${reason}`, reason);
    socket.on('error', () => socket.destroy());
    if (this.refusing.size >= MAX_REFUSING) {
      socket.destroy();
      return;
    }
    this.refusing.add(socket);
    const linger = setTimeout(() => socket.destroy(), REFUSE_LINGER_MS);
    socket.once('close', () => {
      clearTimeout(linger);
      this.refusing.delete(socket);
    });
    socket.end();
    socket.resume();
  }

  /** The first refusal or eviction of a period is logged as it is; the rest are counted into one line. */
  private logRefusal(line: string, reason: string): void {
    if (this.refusalLog) {
      this.refusalLog.more += 1;
      this.refusalLog.reason = reason;
      return;
    }
    this.o.log.warn(line);
    const timer = setTimeout(() => this.flushRefusalLog(), REFUSAL_LOG_PERIOD_MS);
    timer.unref();
    this.refusalLog = { timer, more: 0, reason };
  }

  private flushRefusalLog(): void {
    const pending = this.refusalLog;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.refusalLog = undefined;
    if (pending.more > 0) this.o.log.warn(`Refused or evicted ${pending.more} more connection(s) in the last second (latest: ${pending.reason})`);
  }

  /**
   * An inbound HELLO. A peer we already hold an open connection with is refused before HELLO_OK,
   * unless that connection could not prove the peer's pinned key: then the newcomer may try, so
   * that a plaintext impostor cannot keep the real peer out (see `opened`).
   * When both sides dial at once, the dial of the smaller peer_id wins on both sides.
   */
  private admit(conn: PeerConnection, peerId: string): string | undefined {
    if (this.stopping) return 'shutting down';
    const rec = this.records.get(peerId);
    if (rec?.conn && rec.conn.security !== 'unverified') return 'already connected';
    if (rec?.dialing) {
      if (this.o.localPeerId < peerId) return 'simultaneous dial: ours wins';
      const ours = rec.dialing;
      this.aborted.add(ours);
      this.endDial(rec);
      ours.destroy('rejected', 'simultaneous dial: theirs wins');
    }
    this.admission.settle(conn);
    return undefined;
  }

  private opened(conn: PeerConnection): void {
    const peerId = conn.peerId!;
    const rec = this.record(peerId);
    if (rec.dialing === conn) this.endDial(rec);
    else if (rec.dialing && !rec.conn) {
      // Their connection opened while ours still waited for HELLO_OK (it was admitted before we
      // dialed, and its handshake outlasted a DISCOVER): our dial is moot, and its failure must
      // not send the peer back to connecting.
      const ours = rec.dialing;
      this.aborted.add(ours);
      this.endDial(rec);
      ours.destroy('rejected', 'connected meanwhile');
    }
    if (rec.conn && rec.conn !== conn) {
      if (rec.conn.security !== 'unverified' || conn.security !== 'encrypted') {
        void conn.close('duplicate connection');
        return;
      }
      // The newcomer proved the pinned key: it is the peer, and the unverified one makes way.
      const impostor = rec.conn;
      this.o.log.warn(`${peerId} connected with its pinned key from ${conn.remoteAddress}: the unverified connection from ${impostor.remoteAddress} is closed`);
      rec.conn = undefined;
      impostor.destroy('rejected', 'replaced by a connection that proved the pinned key');
      this.o.onClose(peerId);
    }
    rec.conn = conn;
    rec.state = 'open';
    rec.direction = conn.direction;
    this.resetFailures(rec);
    this.o.log.info(`${conn.direction === 'inbound' ? 'Inbound' : 'Outbound'} connected: ${peerId} (${conn.remoteAddress}${conn.isPipelined ? ', pipelined' : ''}${conn.isSecure ? ', sealed' : ''})`);
    this.emit(rec);
    this.o.onOpen(peerId);
  }

  private closed(conn: PeerConnection, info: CloseInfo): void {
    const rec = conn.peerId === undefined ? undefined : this.records.get(conn.peerId);
    if (!rec) return;
    if (rec.dialing === conn) {
      this.endDial(rec);
      if (this.aborted.has(conn)) return;
      rec.lastError = info.reason;
      this.o.log.info(`Dial to ${rec.peerId} failed: ${info.reason}`);
      if (info.kind === 'handshake' && info.reason.startsWith('answered as')) this.fail(rec);
      else this.retry(rec);
      return;
    }
    if (rec.conn !== conn) return;
    rec.conn = undefined;
    rec.lastError = info.kind === 'local' ? undefined : info.reason;
    this.o.log.info(`Connection with ${rec.peerId} closed: ${info.reason}`);
    if (info.kind === 'stale') {
      rec.state = 'stale';
      this.emit(rec);
    }
    this.o.onClose(rec.peerId);
    if (info.kind === 'bye' || info.kind === 'local' || this.stopping) this.close(rec, info.reason);
    else this.retry(rec);
    if (!rec.address && rec.state !== 'connecting') this.forget(rec);
  }

  /** Dials again after an exponential, jittered delay, until max_reconnect_attempts. */
  private retry(rec: PeerRecord): void {
    if (this.stopping || !rec.address || !this.wanted(rec)) {
      this.close(rec, rec.lastError ?? 'disconnected');
      return;
    }
    if (rec.attempts >= this.o.maxReconnectAttempts) {
      this.fail(rec);
      return;
    }
    const delay = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** rec.attempts) * (0.5 + this.random());
    rec.attempts += 1;
    rec.state = 'connecting';
    rec.nextRetryAt = this.o.now() + delay;
    rec.retryTimer = setTimeout(() => {
      rec.retryTimer = undefined;
      this.dial(rec);
    }, delay);
    this.o.log.debug(`Reconnecting to ${rec.peerId} in ${Math.round(delay)} ms (attempt ${rec.attempts} of ${this.o.maxReconnectAttempts})`);
    this.emit(rec);
  }

  private fail(rec: PeerRecord): void {
    rec.state = 'failed';
    rec.nextRetryAt = undefined;
    this.o.log.warn(`Giving up on ${rec.peerId}: ${rec.lastError ?? 'unreachable'}`);
    this.emit(rec);
    this.o.onUnreachable(rec.peerId, rec.lastError ?? 'unreachable');
  }

  private close(rec: PeerRecord, reason: string): void {
    rec.state = 'closed';
    this.emit(rec);
    this.o.onUnreachable(rec.peerId, reason);
  }

  private resetFailures(rec: PeerRecord): void {
    clearTimeout(rec.retryTimer);
    rec.retryTimer = undefined;
    rec.nextRetryAt = undefined;
    rec.attempts = 0;
    if (rec.state === 'failed') rec.state = 'closed';
  }

  private forget(rec: PeerRecord): void {
    clearTimeout(rec.retryTimer);
    this.dials.done(rec);
    this.records.delete(rec.peerId);
    this.o.onPeerRemoved(rec.peerId);
    this.o.onUnreachable(rec.peerId, 'no longer registered');
  }

  private emit(rec: PeerRecord): void {
    this.o.onPeer(this.view(rec));
  }

  private view(rec: PeerRecord): PeerView {
    const conn = rec.conn;
    return {
      peerId: rec.peerId,
      name: nameOf(rec.peerId),
      namespace: namespaceOf(rec.peerId),
      state: rec.state,
      direction: rec.direction,
      address: rec.address && `${rec.address.ip}:${rec.address.port}`,
      lastRttMs: conn?.lastRttMs,
      avgRttMs: conn?.avgRttMs,
      reconnectAttempts: rec.attempts,
      nextRetryAt: rec.nextRetryAt,
      lastError: rec.lastError,
      pipelined: conn?.isPipelined ?? false,
      security: conn?.security,
    };
  }
}

