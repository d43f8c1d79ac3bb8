// The engine facade: one PyP2P peer. Typed commands in (start, sendDirect, publish, ...), typed
// events out (EngineEvents). Hosts (terminal, Electron main, browser bridge) only ever talk to this.

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import {
  EngineCommandError,
  type EngineCounters,
  type EngineEvents,
  type EngineStatus,
  type FileTransfer,
  type OutgoingMessage,
  type PeerKeyView,
  type PeerView,
} from './api.ts';
import { configProblems, validateIdentityField, type EngineConfig } from './config.ts';
import { FileTransfers, type FilesConfig } from './extensions/file-transfers.ts';
import type { FileFrame } from './extensions/files.ts';
import { TypingIndicator, TypingThrottle, mayUse as receiptsOn, readFrames, typingFrame, type ReceiptsFrame } from './extensions/receipts.ts';
import { Logger, formatLogRecord, type LogLevel, type LogRecord, type ModuleLogger } from './log.ts';
import type { PeerConnection } from './peers/connection.ts';
import { PeerManager } from './peers/manager.ts';
import { RendezvousSession } from './rendezvous/session.ts';
import { Router } from './router.ts';
import { aeadReady, type KeyPair } from './secure/noise.ts';
import { Trust, fingerprint, isTrusted } from './secure/trust.ts';
import { openMessageStore } from './store/sqlite-store.ts';
import { StoreError, type MessageStore } from './store/store.ts';
import { FrameTooLargeError } from './wire/framing.ts';
import { isValidPeerId, normalizePubDst } from './wire/messages.ts';

export interface EngineOptions {
  config: EngineConfig;
  /** The clock; tests and hosts may inject their own. */
  now?: () => number;
  /** Source of reconnect jitter. */
  random?: () => number;
  /**
   * The profile's history and outbox; the host opens it and closes it after `stop`. Without one
   * the engine keeps its messages in an in-memory database that ends with it.
   */
  store?: MessageStore;
  /**
   * The profile's long-term identity key for chatp2p-secure (secure/identity.ts keeps one per
   * profile). Without one the extension is off: a key that changed on every start would only
   * teach peers to accept changed keys.
   */
  identity?: KeyPair;
  /** Send read receipts and show the peers' (chatp2p-receipts); default on. */
  readReceipts?: boolean;
}

/** Read receipts kept for a peer that is away, until its next connection. */
const MAX_HELD_RECEIPTS = 1000;

export class Engine {
  readonly peerId: string;
  readonly config: EngineConfig;
  private readonly events = new EventEmitter();
  private readonly logger: Logger;
  private readonly log: ModuleLogger;
  private readonly now: () => number;
  private readonly counters: EngineCounters = { invalidFrames: 0, spoofed: 0, duplicates: 0 };
  private readonly manager: PeerManager;
  private readonly router: Router;
  private readonly files: FileTransfers;
  private readonly session: RendezvousSession;
  private readonly store: MessageStore;
  private readonly ownsStore: boolean;
  private readonly trust: Trust | undefined;
  private logFile: WriteStream | undefined;
  private readReceipts: boolean;
  /** Our read receipts for a peer with no connection that takes them now: sent on its next one. */
  private readonly heldReceipts = new Map<string, Set<string>>();
  private readonly typingOut = new TypingThrottle();
  private readonly typingIn: TypingIndicator;
  private listenPort = 0;
  private phase: 'new' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(options: EngineOptions) {
    const config = options.config;
    const problems = configProblems(config);
    if (problems.length > 0) throw new EngineCommandError(problems.join('; '));
    this.config = config;
    this.peerId = `${config.name}@${config.namespace}`;
    this.now = options.now ?? Date.now;
    this.events.setMaxListeners(0);
    if (config.logging.file) this.logFile = createWriteStream(config.logging.file, { flags: 'a' });
    this.logger = new Logger({ level: config.logging.level, now: this.now, sink: (record) => this.onLog(record) });
    this.log = this.logger.module('Engine');
    this.readReceipts = options.readReceipts ?? true;
    this.typingIn = new TypingIndicator((peerId, typing) => this.emit('typing', { peerId, typing }));
    this.ownsStore = options.store === undefined;
    this.store = options.store ?? openMessageStore(':memory:');
    // Its outbox goes out under our peer_id: someone else's history must not be resumed as ours.
    try {
      this.store.claim(this.peerId);
    } catch (err) {
      if (err instanceof StoreError) throw new EngineCommandError(err.message, 'history');
      throw err;
    }

    const identity = options.identity;
    this.trust =
      identity &&
      new Trust({
        store: this.store,
        localPeerId: this.peerId,
        localKey: identity.publicKey,
        now: this.now,
        log: this.logger.module('Secure'),
        onChange: (view) => this.emit('keys', view),
      });
    this.router = new Router({
      localPeerId: this.peerId,
      ackTimeoutMs: config.network.ackTimeoutMs,
      retryAttempts: config.peerConnection.retryAttempts,
      pipelineWindow: config.network.pipelineWindow,
      log: this.logger.module('Router'),
      now: this.now,
      counters: this.counters,
      store: this.store,
      // A connection that cannot prove the pinned key gets none of our DMs.
      connectionFor: (peerId) => {
        const conn = this.manager.openConnection(peerId);
        return conn && isTrusted(conn.security) ? conn : undefined;
      },
      onDelivery: (message) => this.emit('delivery', message),
      onMessage: (message) => {
        // Their message ends their "typing…".
        if (message.kind === 'dm') this.typingIn.stopped(message.from);
        this.emit('message', message);
      },
    });
    this.files = new FileTransfers({
      localPeerId: this.peerId,
      config: { ...config.files },
      store: this.store,
      log: this.logger.module('Files'),
      now: this.now,
      // Files, like DMs, go only to a connection that proves the pinned key.
      connectionFor: (peerId) => {
        const conn = this.manager.openConnection(peerId);
        return conn && isTrusted(conn.security) ? conn : undefined;
      },
      want: (peerId) => this.manager.want(peerId),
      // Auto-accept needs a safety number the user compared, on a session that proved that key.
      isVerified: (peerId) => this.manager.openConnection(peerId)?.security === 'encrypted' && this.trust?.keys(peerId)[0]?.verified === true,
      onTransfer: (transfer) => this.emit('transfer', transfer),
    });
    this.manager = new PeerManager({
      localPeerId: this.peerId,
      listenHost: config.listenHost,
      listenPort: config.port,
      timers: {
        handshakeTimeoutMs: config.network.handshakeTimeoutMs,
        pingIntervalMs: config.keepalive.pingIntervalMs,
        maxMissedPongs: config.keepalive.maxMissedPongs,
        maxStrikes: config.network.maxStrikes,
        byeTimeoutMs: config.network.byeTimeoutMs,
      },
      limits: config.network,
      policy: config.peerConnection.policy,
      maxReconnectAttempts: config.peerConnection.maxReconnectAttempts,
      backoffBaseMs: config.peerConnection.backoffBaseMs,
      backoffMaxMs: config.peerConnection.backoffMaxMs,
      log: this.logger.module('Peers'),
      now: this.now,
      random: options.random,
      secure: identity && { staticKey: identity, verdict: (peerId, key) => this.trust!.verdict(peerId, key) },
      onPeer: (view) => this.emit('peer', view),
      onPeerRemoved: (peerId) => this.emit('peer-removed', { peerId }),
      onOpen: (peerId) => this.onOpen(peerId),
      onClose: (peerId) => {
        this.typingIn.stopped(peerId);
        this.router.onConnectionClosed(peerId);
        this.files.onConnectionClosed(peerId);
      },
      onUnreachable: (peerId, reason) => this.router.park(peerId, `${peerId} is unreachable: ${reason}`),
      onMessage: (conn, message) => {
        if (message.type === 'FILE') this.onFileFrame(conn, message.frame);
        else if (message.type === 'RECEIPTS') this.onReceiptsFrame(conn, message.frame);
        else this.router.onFrame(conn, message);
      },
      onInvalidFrame: () => (this.counters.invalidFrames += 1),
    });
    this.session = new RendezvousSession({
      endpoint: { host: config.rendezvous.host, port: config.rendezvous.port, timeoutMs: config.rendezvous.timeoutMs },
      name: config.name,
      namespace: config.namespace,
      port: () => this.listenPort,
      ttl: config.ttl,
      discoverIntervalMs: config.rendezvous.discoverIntervalMs,
      maxRequestsPerMinute: config.rendezvous.maxRequestsPerMinute,
      log: this.logger.module('Rendezvous'),
      now: this.now,
      onRegistration: (view) => this.emit('registration', view),
      onDiscovered: (peers) => this.manager.updateDiscovered(peers),
    });
  }

  /** Subscribes to one event; returns the function that unsubscribes. */
  on<K extends keyof EngineEvents>(event: K, listener: (payload: EngineEvents[K]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  /** Listens for peers, then registers and discovers. Rejects if the port cannot be bound. */
  async start(): Promise<EngineStatus> {
    if (this.phase !== 'new') throw new EngineCommandError('the engine was already started');
    this.phase = 'running';
    // Sessions begin on the cipher they will keep (libsodium's, where node:crypto lacks it).
    const noLibsodium = await aeadReady;
    if (noLibsodium) this.log.warn(`libsodium did not load (${noLibsodium.message}): sealed sessions use @noble's ChaCha20-Poly1305, about half as fast`);
    this.listenPort = await this.manager.listen();
    this.log.info(`${this.peerId} listening on ${this.config.listenHost}:${this.listenPort}`);
    // What an earlier run could not deliver goes to each peer once it is connected again.
    for (const peerId of [...this.router.resume(), ...this.files.resume()]) this.manager.want(peerId);
    this.session.start();
    return this.status();
  }

  /** Leaves: BYE to every peer (up to the BYE timeout for BYE_OK), then UNREGISTER. */
  async stop(): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    this.phase = 'stopping';
    this.log.info('Leaving: BYE to every peer, then UNREGISTER');
    // Files first: what is written is kept, nothing more is taken while we say BYE.
    await this.files.close();
    this.typingIn.close();
    await this.manager.stop();
    this.router.close();
    await this.session.stop();
    if (this.ownsStore) this.store.close();
    this.phase = 'stopped';
    this.log.info('Stopped');
    await new Promise<void>((resolve) => (this.logFile ? this.logFile.end(resolve) : resolve()));
  }

  /**
   * Stores and queues a direct message; its `delivery` events follow it until `delivered` (or
   * cancelled), and `read` from a ChatP2P peer. `replyTo`: the msg_id it answers, told to a peer
   * that negotiated chatp2p-receipts (the text carries the quote for every other).
   */
  sendDirect(peerId: unknown, text: unknown, replyTo?: unknown): OutgoingMessage {
    this.requireRunning();
    if (!isValidPeerId(peerId) || !peerId.includes('@')) throw new EngineCommandError('a peer is addressed as name@namespace');
    if (peerId === this.peerId) throw new EngineCommandError('that is our own peer_id', 'own-peer-id');
    const body = this.requireText(text);
    if (replyTo !== undefined && (typeof replyTo !== 'string' || replyTo === '' || replyTo.length > 128)) throw new EngineCommandError('reply to a message by its msg_id');
    const known = this.manager.get(peerId) !== undefined;
    this.manager.want(peerId);
    const message = framed(() => this.router.sendDirect(peerId, body, replyTo));
    // The next key typed says "typing…" again at once.
    this.typingOut.reset(peerId);
    // Its `delivery` event says why it waits.
    this.holdOutbox(peerId);
    // A peer that registered after our last DISCOVER: look again before giving up on it.
    if (!known) {
      this.discover().then(
        () => this.manager.get(peerId) ?? this.router.park(peerId, `${peerId} is not registered on the rendezvous server`),
        (err: Error) => this.router.park(peerId, `cannot look up ${peerId}: ${err.message}`),
      );
    }
    return message;
  }

  /**
   * The user has seen these DMs of the peer's: a read receipt goes to a ChatP2P peer (now, or on its
   * next connection), unless read receipts are off. Refs that are not the peer's msg_ids are the
   * peer's to ignore.
   */
  markRead(peerId: string, msgIds: string[]): void {
    if (!this.readReceipts || msgIds.length === 0) return;
    const held = this.heldReceipts.get(peerId) ?? new Set<string>();
    for (const msgId of msgIds) if (held.size < MAX_HELD_RECEIPTS) held.add(msgId);
    this.heldReceipts.set(peerId, held);
    this.sendHeldReceipts(peerId);
  }

  /** The user is typing to this peer: "typing…" goes to a ChatP2P peer, at most every 3 s. */
  typing(peerId: string): void {
    const conn = this.receiptsConnection(peerId);
    if (!conn || !this.typingOut.shouldSend(peerId, this.now())) return;
    conn.send(typingFrame({ msgId: randomUUID(), src: this.peerId, dst: peerId }));
  }

  /** Read receipts on or off: off, we send none and show none of the peers' (as Signal does). */
  setReadReceipts(on: boolean): void {
    this.readReceipts = on;
    if (!on) this.heldReceipts.clear();
    this.log.info(`Read receipts ${on ? 'on' : 'off'}`);
  }

  /** Publishes to `*` or `#namespace` (a bare namespace is read as `#namespace`). */
  publish(dst: unknown, text: unknown): OutgoingMessage {
    this.requireRunning();
    if (typeof dst !== 'string' || dst === '' || dst === '#') throw new EngineCommandError('publish to * or #namespace');
    const scope = normalizePubDst(dst);
    if (scope !== '*') {
      const problem = validateIdentityField('namespace', scope.slice(1));
      if (problem) throw new EngineCommandError(problem);
    }
    const body = this.requireText(text);
    return framed(() => this.router.publish(scope, body, this.manager.openConnections().filter((conn) => isTrusted(conn.security))));
  }

  /** DISCOVER now; resolves with the peer table after merging the answer. */
  async discover(): Promise<PeerView[]> {
    this.requireRunning();
    await this.session.discover();
    return this.manager.list();
  }

  /** Takes back a DM that is not delivered yet; the peer may still have it if its ACK comes later. */
  cancel(msgId: unknown): OutgoingMessage {
    const message = typeof msgId === 'string' ? this.router.cancel(msgId) : undefined;
    if (!message) throw new EngineCommandError('only a message that is still waiting can be cancelled', 'not-waiting');
    return message;
  }

  /** "Try now" for a DM waiting in the outbox: back in line, and its peer dialed at once. */
  retry(msgId: unknown): OutgoingMessage {
    this.requireRunning();
    const message = typeof msgId === 'string' ? this.store.outgoing(msgId) : undefined;
    if (!message || message.kind !== 'dm' || (message.state !== 'queued' && message.state !== 'sent')) {
      throw new EngineCommandError('only a message that is still waiting can be sent again', 'not-waiting');
    }
    this.router.unpark(message.to);
    if (this.manager.get(message.to)) this.manager.reconnect(message.to);
    else this.manager.want(message.to);
    this.router.pump(message.to);
    return message;
  }

  /** Offers a file to a ChatP2P peer (hashing it first); it goes once the peer accepts. */
  async sendFile(peerId: unknown, path: unknown): Promise<FileTransfer> {
    this.requireRunning();
    if (!isValidPeerId(peerId) || !peerId.includes('@')) throw new EngineCommandError('a peer is addressed as name@namespace');
    if (peerId === this.peerId) throw new EngineCommandError('that is our own peer_id');
    if (typeof path !== 'string' || path === '') throw new EngineCommandError('which file?');
    return this.files.offer(peerId, path);
  }

  /** Accepts an incoming file offer, into `dir` or the download folder. */
  acceptFile(id: unknown, dir?: unknown): FileTransfer {
    this.requireRunning();
    if (dir !== undefined && (typeof dir !== 'string' || dir === '')) throw new EngineCommandError('the folder must be a path');
    return this.files.accept(String(id), dir);
  }

  declineFile(id: unknown): FileTransfer {
    this.requireRunning();
    return this.files.decline(String(id));
  }

  /** Stops a file transfer, ours or theirs. */
  cancelTransfer(id: unknown): FileTransfer {
    this.requireRunning();
    return this.files.cancel(String(id));
  }

  /** The user changed the file settings: the next offer and accept use them. */
  setFilesConfig(files: Partial<Pick<FilesConfig, 'downloadDir' | 'maxBytes' | 'autoAcceptBytes'>>): void {
    this.files.configure(files);
  }

  /** Every file transfer in the history, oldest first. */
  transfers(): FileTransfer[] {
    return this.files.list();
  }

  /** Whether a file can be offered to this peer now: `legacy` is a client without chatp2p-files. */
  fileSupport(peerId: string): 'yes' | 'legacy' | 'offline' {
    return this.files.support(peerId);
  }

  /** Clears reconnect failures and dials now: one peer, or every known peer not connected. */
  reconnect(peerId?: unknown): void {
    this.requireRunning();
    if (peerId !== undefined && (typeof peerId !== 'string' || !this.manager.get(peerId))) throw new EngineCommandError(`unknown peer ${String(peerId)}`, 'unknown-peer');
    this.manager.reconnect(peerId);
  }

  /** Our identity key's fingerprint; undefined when chatp2p-secure is off. */
  get identityFingerprint(): string | undefined {
    return this.trust?.localFingerprint;
  }

  /** The pinned identity keys: of one peer, or of every peer. */
  keys(peerId?: unknown): PeerKeyView[] {
    const trust = this.requireTrust();
    if (peerId !== undefined && !isValidPeerId(peerId)) throw new EngineCommandError('a peer is addressed as name@namespace');
    return trust.keys(peerId);
  }

  /** Accepts the new key a pinned peer shows: what waited for it in the outbox goes out. */
  acceptKey(peerId: unknown): PeerKeyView {
    const trust = this.requireTrust();
    const view = isValidPeerId(peerId) ? trust.accept(peerId) : undefined;
    if (!view) throw new EngineCommandError(`no new key of ${String(peerId)} waits to be accepted`);
    const conn = this.manager.openConnection(view.peerId);
    if (conn?.security === 'key-changed' && conn.remoteKey !== undefined && fingerprint(Buffer.from(conn.remoteKey).toString('hex')) === view.fingerprint) {
      conn.security = 'encrypted';
      const peer = this.manager.list().find((p) => p.peerId === view.peerId);
      if (peer) this.emit('peer', peer);
      this.router.onConnectionOpen(view.peerId);
    }
    return view;
  }

  /** Marks a pinned peer's safety number as compared (or not). */
  verifyKey(peerId: unknown, verified = true): PeerKeyView {
    const trust = this.requireTrust();
    const view = isValidPeerId(peerId) ? trust.verify(peerId, verified) : undefined;
    if (!view) throw new EngineCommandError(`no key of ${String(peerId)} is pinned: it has not had a secure session with us`);
    return view;
  }

  setLogLevel(level: LogLevel): void {
    this.logger.setLevel(level);
    this.log.info(`Log level ${level}`);
  }

  peers(): PeerView[] {
    return this.manager.list();
  }

  status(): EngineStatus {
    const peers = this.manager.list();
    const rtts = peers.flatMap((p) => (p.state === 'open' && p.avgRttMs !== undefined ? [p.avgRttMs] : []));
    return {
      peerId: this.peerId,
      listen: { host: this.config.listenHost, port: this.listenPort },
      registration: this.session.registration,
      peers: { known: peers.length, open: peers.filter((p) => p.state === 'open').length },
      avgRttMs: rtts.length > 0 ? rtts.reduce((a, b) => a + b, 0) / rtts.length : undefined,
      logLevel: this.logger.level,
      counters: { ...this.counters },
    };
  }

  /** Resolves once no DM is on its way: each is delivered, cancelled, or waits in the outbox for its peer. */
  whenIdle(): Promise<void> {
    return this.router.whenIdle();
  }

  private requireTrust(): Trust {
    if (!this.trust) throw new EngineCommandError('chatp2p-secure is off in this engine');
    return this.trust;
  }

  /** A connection opened: one that could not prove the pinned key holds our outbox. */
  private onOpen(peerId: string): void {
    if (this.holdOutbox(peerId)) return;
    this.sendHeldReceipts(peerId);
    this.router.onConnectionOpen(peerId);
    this.files.onConnectionOpen(this.manager.openConnection(peerId)!);
  }

  /** The peer's open connection, when it proves the pinned key and negotiated chatp2p-receipts: the only kind that gets its frames. */
  private receiptsConnection(peerId: string): PeerConnection | undefined {
    const conn = this.manager.openConnection(peerId);
    return conn && isTrusted(conn.security) && receiptsOn(conn.extensions) ? conn : undefined;
  }

  private sendHeldReceipts(peerId: string): void {
    const held = this.heldReceipts.get(peerId);
    if (!held) return;
    const conn = this.manager.openConnection(peerId);
    if (!conn) return;
    this.heldReceipts.delete(peerId);
    // A client without the extension never learns we read anything.
    if (!isTrusted(conn.security) || !receiptsOn(conn.extensions)) return;
    for (const frame of readFrames(this.peerId, peerId, [...held], this.readReceipts, randomUUID)) conn.send(frame);
  }

  /** chatp2p-receipts frames (connection.ts passes them only where it was negotiated). */
  private onReceiptsFrame(conn: PeerConnection, frame: ReceiptsFrame): void {
    const from = conn.peerId!;
    if (frame.src !== from) {
      this.counters.spoofed += 1;
      this.log.warn(`A ${frame.kind} receipt on ${from}'s connection claims src ${JSON.stringify(frame.src)}: ignored`);
      return;
    }
    if (!isTrusted(conn.security)) return;
    if (frame.kind === 'typing') this.typingIn.typing(from);
    // Read receipts off: theirs are not shown either.
    else if (this.readReceipts) this.router.onRead(from, frame.refs);
  }

  /** File frames from a connection that cannot prove the pinned key are not acted on. */
  private onFileFrame(conn: PeerConnection, frame: FileFrame): void {
    if (isTrusted(conn.security)) this.files.onFrame(conn, frame);
    else this.log.warn(`${conn.label} sent a file frame on a connection that could not prove its pinned key: ignored`);
  }

  /** Parks what waits for a peer whose open connection cannot prove its pinned key; true if it did. */
  private holdOutbox(peerId: string): boolean {
    const security = this.manager.openConnection(peerId)?.security;
    if (security === 'key-changed') this.router.park(peerId, `the identity key of ${peerId} changed: accept the new key to send`);
    else if (security === 'unverified') this.router.park(peerId, `${peerId} connected without encryption though its key is pinned: not sent to an unverified connection`);
    else return false;
    return true;
  }

  private requireRunning(): void {
    if (this.phase !== 'running') throw new EngineCommandError(this.phase === 'new' ? 'the engine is not started' : 'the engine is stopping', 'not-running');
  }

  private requireText(text: unknown): string {
    if (typeof text !== 'string' || text.length === 0) throw new EngineCommandError('the message is empty');
    return text;
  }

  private onLog(record: LogRecord): void {
    this.logFile?.write(formatLogRecord(record) + '\n');
    this.emit('log', { time: record.time.toISOString(), level: record.level, module: record.module, message: record.message });
  }

  private emit<K extends keyof EngineEvents>(event: K, payload: EngineEvents[K]): void {
    this.events.emit(event, payload);
  }
}

/** Runs a router command, turning a frame over the line limit into the user's error. */
function framed<T>(command: () => T): T {
  try {
    return command();
  } catch (err) {
    if (err instanceof FrameTooLargeError) throw new EngineCommandError(`the message is too long (${err.bytes} bytes with its envelope; the limit is 32768)`, 'too-long');
    if (err instanceof StoreError) throw new EngineCommandError(err.message, 'history');
    throw err;
  }
}
