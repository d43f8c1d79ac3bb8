// One TCP connection with one peer: framing, handshake, keep-alive, pacing and BYE. What the
// frames mean for the user (messages, delivery) is the router's business, reached through hooks.

import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { PeerSecurity } from '../api.ts';
import type { ModuleLogger } from '../log.ts';
import { CHALLENGE_FIELD, EXTENSIONS, OUR_FEATURES, answerFields, negotiate, newChallenge } from '../extensions/negotiation.ts';
import { FEATURE_FILES, encodeFileChunk, parseSealedChunk, sealedChunkHead } from '../extensions/files.ts';
import { FEATURE_PIPELINE } from '../extensions/pipeline.ts';
import { mayUse as receiptsOn } from '../extensions/receipts.ts';
import { FEATURE_SECURE, securePrologue } from '../extensions/secure.ts';
import { SecureChannel, SecureChannelError } from '../secure/channel.ts';
import type { KeyPair } from '../secure/noise.ts';
import { LineReader, encodeFrame } from '../wire/framing.ts';
import { PROTOCOL_VERSION, parsePeerMessage, type PeerMessage } from '../wire/messages.ts';
import { isoNow } from '../wire/timestamp.ts';

export type Direction = 'inbound' | 'outbound';

/**
 * Why a connection ended: `bye` the peer said BYE; `local` we closed it on purpose; `lost` the
 * socket ended or failed; `stale` it missed PONGs; `handshake` it never opened; `rejected` we
 * refused it before HELLO_OK; `protocol` the peer broke framing or sent too many bad frames;
 * `overflow` it did not read what we sent and our write queue for it went over the limit.
 */
export type CloseKind = 'bye' | 'local' | 'lost' | 'stale' | 'handshake' | 'rejected' | 'protocol' | 'overflow';

export interface CloseInfo {
  kind: CloseKind;
  reason: string;
  /** Whether the connection had reached the open state. */
  wasOpen: boolean;
}

export interface ConnectionTimers {
  handshakeTimeoutMs: number;
  pingIntervalMs: number;
  maxMissedPongs: number;
  maxStrikes: number;
  byeTimeoutMs: number;
}

/** `chatp2p-secure` for this engine: our identity key, and who decides what a peer's key (or its lack) means. */
export interface SecureOptions {
  staticKey: KeyPair;
  /** Called once per connection as it opens: `remoteKey` is undefined on a plaintext connection. */
  verdict(peerId: string, remoteKey: Uint8Array | undefined): PeerSecurity;
}

export interface ConnectionHooks {
  /** Inbound HELLO: undefined accepts it, a string is why it is refused (before HELLO_OK). */
  admit(conn: PeerConnection, peerId: string): string | undefined;
  opened(conn: PeerConnection): void;
  /** SEND, ACK, PUB and negotiated extension frames once the connection is open. */
  message(conn: PeerConnection, message: PeerMessage): void;
  rtt(conn: PeerConnection): void;
  /** Something odd but tolerated about this peer (PROTOCOL.md §4), worth one log line per peer. */
  quirk(conn: PeerConnection, what: string): void;
  /** A frame that was not a valid message (counted for `status`). */
  invalidFrame(conn: PeerConnection): void;
  closed(conn: PeerConnection, info: CloseInfo): void;
}

/** How long a frame that expects an answer (SEND→ACK, PING→PONG) holds a legacy peer's line. */
const LEGACY_ANSWER_HOLD_MS = 1000;
/**
 * Pause after a frame that nothing shows read (a PUB; our ACK when no request of the peer's
 * followed it), toward a peer whose reader keeps only the first line of each socket read
 * (PROTOCOL.md §4), before the PING that asks whether it did: a probe sent at once would land in
 * the same read whenever the peer is busy.
 */
const LEGACY_FRAME_GAP_MS = 20;
const RTT_SAMPLES = 10;

interface OutgoingFrame {
  bytes: Buffer;
  /** The answer that proves the peer read this frame. */
  answer?: { type: 'ACK' | 'PONG'; msgId: string };
  /**
   * This frame answers a request of the peer's (ACK, PONG, HELLO_OK): the peer waits for it, so
   * its next request, read after this frame was written, shows it was read.
   */
  reply?: boolean;
  /** Called when the frame is handed to the socket: the peer's clock starts then, not when queued. */
  onWritten?: () => void;
  /** A file chunk for a SEALED_CHUNK box: its header line, with `bytes` the raw file bytes. */
  chunkHead?: string;
}

export class PeerConnection {
  readonly direction: Direction;
  readonly socket: Socket;
  /** The peer's id: the one we dialed until HELLO_OK says otherwise; the HELLO's for inbound. */
  peerId: string | undefined;
  state: 'handshake' | 'open' | 'closing' | 'closed' = 'handshake';
  features: string[] = [];
  /** Our extensions this connection uses, as extensions/negotiation.ts decided from the handshake. */
  extensions: ReadonlySet<string> = new Set();
  /** What the peer's identity key (or its lack) means, decided as the connection opens (secure/trust.ts). */
  security: PeerSecurity = 'plain';
  lastRttMs: number | undefined;
  private rttSamples: number[] = [];
  strikes = 0;

  private readonly localPeerId: string;
  private readonly timers: ConnectionTimers;
  private readonly hooks: ConnectionHooks;
  private readonly log: ModuleLogger;
  private readonly now: () => number;
  private readonly reader = new LineReader();

  private handshakeTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly pendingPings = new Map<string, number>();
  private awaitingPong = false;
  private missedPongs = 0;

  /** The challenge our HELLO carried (outbound). */
  private challenge: string | undefined;
  private readonly secureOptions: SecureOptions | undefined;
  /** The features we advertise: `chatp2p-secure` only with an identity key. */
  private readonly ourFeatures: readonly string[];
  /** Our HELLO as written (outbound): half of the secure prologue. */
  private helloLine: Buffer | undefined;
  /** Set once both sides chose `chatp2p-secure`: the Noise handshake, then sealing. */
  private channel: SecureChannel | undefined;
  /** What `open` gets once the Noise handshake is done. */
  private securing: { features: string[]; extensions: ReadonlySet<string> } | undefined;
  private readonly urgent: OutgoingFrame[] = [];
  private readonly normal: OutgoingFrame[] = [];
  /** Bytes of the frames in `urgent` and `normal`, not yet handed to the socket. */
  private queuedFrameBytes = 0;
  private peakQueued = 0;
  private overflowing = false;
  private readonly maxWriteQueueBytes: number;
  /** Our PONG while it still waits in the queue: a newer PING replaces it rather than adding one. */
  private queuedPong: OutgoingFrame | undefined;
  /** PINGs answered by a later PONG instead of their own (a PING flood). */
  private coalescedPings = 0;
  /**
   * Toward a legacy peer, our last frame while nothing shows the peer read it: the next one waits.
   * `read` is the socket read during which it was written. `unproven`: its gap is over and still
   * nothing showed it read, so a PING goes before the next frame (see flush).
   */
  private slot: { answer: OutgoingFrame['answer']; reply: boolean; read: number; timer: NodeJS.Timeout | undefined; unproven: boolean } | undefined;
  /** The msg_id of our PING that asks whether the peer read our last frame. */
  private probeId: string | undefined;
  /** Socket reads so far: a request that came in a later read than our reply was sent after it arrived. */
  private reads = 0;
  private flushScheduled = false;

  private byeMsgId: string | undefined;
  private byeDone: (() => void) | undefined;
  /** Set while our BYE is out: the socket closing then is the end we asked for. */
  private closingAs: Omit<CloseInfo, 'wasOpen'> | undefined;
  private readonly closedPromise: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;

  constructor(options: {
    socket: Socket;
    direction: Direction;
    localPeerId: string;
    /** For an outbound connection, the peer we dialed. */
    expectedPeerId?: string;
    timers: ConnectionTimers;
    /** Bytes waiting for this peer (socket buffer + our queue) before it counts as not reading. */
    maxWriteQueueBytes?: number;
    hooks: ConnectionHooks;
    log: ModuleLogger;
    now: () => number;
    secure?: SecureOptions;
  }) {
    this.socket = options.socket;
    this.direction = options.direction;
    this.localPeerId = options.localPeerId;
    this.peerId = options.expectedPeerId;
    this.timers = options.timers;
    this.maxWriteQueueBytes = options.maxWriteQueueBytes ?? Infinity;
    this.hooks = options.hooks;
    this.log = options.log;
    this.now = options.now;
    this.secureOptions = options.secure;
    this.ourFeatures = options.secure ? OUR_FEATURES : OUR_FEATURES.filter((f) => f !== FEATURE_SECURE);
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));

    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.finish(this.closingAs ?? { kind: 'lost', reason: err.code ?? err.message }));
    this.socket.on('close', () => this.finish(this.closingAs ?? { kind: 'lost', reason: 'connection closed by peer' }));
    this.handshakeTimer = setTimeout(
      () => this.finish({ kind: 'handshake', reason: `no ${this.direction === 'outbound' ? 'HELLO_OK' : 'HELLO'} within ${this.timers.handshakeTimeoutMs} ms` }),
      this.timers.handshakeTimeoutMs,
    );
  }

  /** `ip:port` of the other end (known once the socket is connected). */
  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** For logs and errors: the peer's id once known, its address before. */
  get label(): string {
    return this.peerId ?? this.remoteAddress;
  }

  /** `chatp2p-pipeline` is on: many frames in flight, no pacing. */
  get isPipelined(): boolean {
    return this.extensions.has(FEATURE_PIPELINE);
  }

  /** `chatp2p-secure` is on: every frame after HELLO_OK crosses the wire sealed. */
  get isSecure(): boolean {
    return this.channel?.ready ?? false;
  }

  /** The peer's identity key, proven by the Noise handshake. */
  get remoteKey(): Uint8Array | undefined {
    return this.channel?.remoteKey;
  }

  get avgRttMs(): number | undefined {
    if (this.rttSamples.length === 0) return undefined;
    return this.rttSamples.reduce((a, b) => a + b, 0) / this.rttSamples.length;
  }

  /** Bytes written for this peer that it has not taken yet: the socket's buffer plus our queue. */
  get queuedBytes(): number {
    return this.socket.writableLength + this.queuedFrameBytes;
  }

  /** The most `queuedBytes` ever was on this connection. */
  get peakQueuedBytes(): number {
    return this.peakQueued;
  }

  /** Resolves once the socket is gone, with why. */
  get closed(): Promise<CloseInfo> {
    return this.closedPromise;
  }

  /** Outbound: the socket is connected; say HELLO and nothing else until HELLO_OK. */
  sendHello(): void {
    this.challenge = newChallenge();
    this.helloLine = encodeFrame({ type: 'HELLO', peer_id: this.localPeerId, version: PROTOCOL_VERSION, features: this.ourFeatures, [CHALLENGE_FIELD]: this.challenge, ttl: 1 });
    this.write(this.helloLine);
  }

  /**
   * Queues a frame. `awaitAck`: a legacy peer's line is held until that ACK comes. `urgent`: an
   * answer the peer is waiting for (ACK), ahead of our own messages; toward a legacy peer the
   * peer's next request counts as having read it.
   */
  send(message: Record<string, unknown>, options: { awaitAck?: string; urgent?: boolean } = {}): void {
    this.sendEncoded(encodeFrame(message), options);
  }

  /** Queues an already-encoded frame (a PUB goes to many connections, a retry reuses its bytes). */
  sendEncoded(bytes: Buffer, options: { awaitAck?: string; urgent?: boolean; onWritten?: () => void } = {}): void {
    const answer = options.awaitAck === undefined ? undefined : ({ type: 'ACK', msgId: options.awaitAck } as const);
    const urgent = options.urgent ?? false;
    this.enqueue({ bytes, answer, reply: urgent && answer === undefined, onWritten: options.onWritten }, urgent);
  }

  /**
   * Queues one FILE_CHUNK: a SEALED_CHUNK box of its raw bytes once the channel is sealed, else
   * the plain line.
   */
  sendFileChunk(fileId: string, offset: number, data: Buffer): void {
    if (this.channel?.ready) this.enqueue({ bytes: data, chunkHead: sealedChunkHead(fileId, offset) }, false);
    else this.sendEncoded(encodeFileChunk(fileId, offset, data));
  }

  /**
   * Says BYE, waits up to the BYE timeout for BYE_OK, then closes. Before the connection is open
   * there is nobody to say BYE to: the socket is just closed.
   */
  async close(reason: string, kind: CloseKind = 'local'): Promise<CloseInfo> {
    // Already saying BYE: the first close decides how long to wait.
    if (this.state === 'closing') return this.closedPromise;
    if (this.state === 'open') {
      this.state = 'closing';
      this.closingAs = { kind, reason };
      this.byeMsgId = randomUUID();
      this.writeNow({ type: 'BYE', msg_id: this.byeMsgId, src: this.localPeerId, dst: this.peerId, reason, ttl: 1 });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.timers.byeTimeoutMs);
        this.byeDone = () => {
          clearTimeout(timer);
          resolve();
        };
        void this.closedPromise.then(this.byeDone);
      });
    }
    this.finish({ kind, reason });
    return this.closedPromise;
  }

  /** Ends the connection at once, without BYE. */
  destroy(kind: CloseKind, reason: string): void {
    this.finish({ kind, reason });
  }

  private onData(chunk: Buffer): void {
    this.reads += 1;
    const fits = this.reader.push(chunk, (line) => {
      // A peer being dropped for not reading gets nothing more done for it.
      if (this.state !== 'closed' && !this.overflowing) this.onLine(line);
    });
    if (!fits && this.state !== 'closed') {
      this.log.warn(`${this.label}: line over the 32768-byte limit, closing the connection`);
      this.finish({ kind: 'protocol', reason: 'line over the 32768-byte limit' });
    }
  }

  private onLine(line: Buffer): void {
    const channel = this.channel;
    if (channel === undefined) {
      this.onFrame(line);
      return;
    }
    const wasReady = channel.ready;
    const answer = channel.read(line.toString('utf8'));
    if (answer !== undefined) this.write(answer, { clear: true });
    if (this.state === 'closed' || wasReady || !channel.ready) return;
    // The Noise handshake is done: the connection opens now.
    const { features, extensions } = this.securing!;
    this.securing = undefined;
    this.open(features, extensions);
    this.announceOpen();
  }

  /** Nothing after a frame that does not open can be trusted: the peer is dropped at once. */
  private channelBroken(err: SecureChannelError): void {
    if (this.state === 'closed') return;
    this.strikes += 1;
    this.hooks.invalidFrame(this);
    this.log.warn(`${this.label}: ${err.message}; dropping the connection`);
    this.finish({ kind: this.channel?.ready ? 'protocol' : 'handshake', reason: err.message });
  }

  /**
   * Both sides chose `chatp2p-secure`: Noise starts, bound to the HELLO and HELLO_OK lines (each
   * without its newline), and the opening waits for it.
   */
  private beginSecure(hello: Buffer, helloOk: Buffer, features: string[], extensions: ReadonlySet<string>): void {
    this.securing = { features, extensions };
    const initiator = this.direction === 'outbound';
    this.channel = new SecureChannel({
      initiator,
      prologue: securePrologue(hello, helloOk),
      staticKey: this.secureOptions!.staticKey,
      sink: {
        write: (bytes) => {
          if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
        },
        // A peer being dropped for not reading gets nothing more done for it.
        line: (inner) => {
          if (this.state !== 'closed' && !this.overflowing) this.onFrame(inner);
        },
        chunk: (head, data) => {
          if (this.state !== 'closed' && !this.overflowing) this.onSealedChunk(head, data);
        },
        error: (err) => this.channelBroken(err),
      },
    });
    if (initiator) this.write(this.channel.start());
  }

  private announceOpen(): void {
    this.security = this.secureOptions?.verdict(this.peerId!, this.remoteKey) ?? 'plain';
    this.hooks.opened(this);
  }

  private onFrame(line: Buffer): void {
    const text = line.toString('utf8');
    if (text.trim() === '') return;
    const parsed = parsePeerMessage(text);
    if (!parsed.ok) {
      this.strike(parsed.error);
      return;
    }
    const message = parsed.message;
    if (this.state === 'handshake') {
      this.onHandshakeMessage(message, line);
      return;
    }
    if (message.type === 'SEND' || message.type === 'PING') this.peerRequested();
    switch (message.type) {
      case 'PING':
        this.answerPing(message.msgId);
        return;
      case 'PONG':
        this.onPong(message.msgId);
        return;
      case 'BYE':
        this.log.info(`${this.label} said BYE${message.reason ? ` (${message.reason})` : ''}`);
        this.writeNow({ type: 'BYE_OK', msg_id: message.msgId, src: this.localPeerId, dst: this.peerId, ttl: 1 });
        this.finish({ kind: 'bye', reason: message.reason ? `left: ${message.reason}` : 'left' });
        return;
      case 'BYE_OK':
        // Some answer with a msg_id of their own (and `dest` for `dst`): any BYE_OK ends it.
        if (this.byeMsgId === undefined) return;
        if (message.msgId !== this.byeMsgId) this.hooks.quirk(this, 'answers BYE with a BYE_OK of its own msg_id');
        this.byeDone?.();
        return;
      case 'ACK':
        this.releaseSlot('ACK', message.msgId);
        this.hooks.message(this, message);
        return;
      case 'SEND':
      case 'PUB':
        this.hooks.message(this, message);
        return;
      case 'FILE':
        this.onFile(message);
        return;
      case 'RECEIPTS':
        if (receiptsOn(this.extensions)) this.hooks.message(this, message);
        else this.log.debug(`${this.label}: ignoring a ${message.frame.kind} frame without chatp2p-receipts`);
        return;
      case 'UNKNOWN':
        this.log.debug(`${this.label}: ignoring unknown message type ${message.name}`);
        return;
      default:
        this.log.debug(`${this.label}: ignoring ${message.type} on an open connection`);
    }
  }

  /** A FILE_CHUNK from a SEALED_CHUNK box: checked as the plain line's would be. */
  private onSealedChunk(head: string, data: Buffer): void {
    const frame = parseSealedChunk(head, data);
    if (typeof frame === 'string') this.strike(frame);
    else if (this.state === 'handshake') this.strike('FILE_CHUNK before HELLO_OK');
    else this.onFile({ type: 'FILE', frame });
  }

  private onFile(message: Extract<PeerMessage, { type: 'FILE' }>): void {
    // Only where both sides negotiated it; from anyone else it is an unknown type.
    if (this.extensions.has(FEATURE_FILES)) this.hooks.message(this, message);
    else this.log.debug(`${this.label}: ignoring ${message.frame.kind} without chatp2p-files`);
  }

  private onHandshakeMessage(message: PeerMessage, line: Buffer): void {
    if (this.direction === 'inbound') {
      if (message.type !== 'HELLO') {
        this.strike(`${message.type === 'UNKNOWN' ? message.name : message.type} before HELLO`);
        return;
      }
      const refusal = message.peerId === this.localPeerId ? 'it claims our own peer_id' : this.hooks.admit(this, message.peerId);
      if (refusal !== undefined) {
        this.log.info(`Refused inbound HELLO from ${message.peerId} at ${this.remoteAddress}: ${refusal}`);
        this.finish({ kind: 'rejected', reason: refusal });
        return;
      }
      this.peerId = message.peerId;
      const extensions = negotiate({ direction: 'inbound', features: message.features }, this.ourFeatures);
      const helloOk = encodeFrame({ type: 'HELLO_OK', peer_id: this.localPeerId, version: PROTOCOL_VERSION, features: this.ourFeatures, ...answerFields(message.challenge, this.ourFeatures), ttl: 1 });
      if (extensions.has(FEATURE_SECURE)) {
        this.write(helloOk);
        this.beginSecure(line, helloOk.subarray(0, -1), message.features, extensions);
        return;
      }
      this.open(message.features, extensions);
      this.enqueue({ bytes: helloOk, reply: true }, true);
      this.announceOpen();
      return;
    }
    if (message.type === 'HELLO_REJECT') {
      this.finish({ kind: 'rejected', reason: `HELLO_REJECT${message.reason ? `: ${message.reason}` : ''}` });
    } else if (message.type === 'HELLO_OK') {
      const answeredAs = message.peerId;
      if (answeredAs !== undefined && this.peerId !== undefined && answeredAs !== this.peerId) {
        // Some peers put the dialer's peer_id in HELLO_OK: the peer we dialed is who it is.
        if (answeredAs !== this.localPeerId) {
          this.finish({ kind: 'handshake', reason: `answered as ${answeredAs}` });
          return;
        }
        this.hooks.quirk(this, `answers HELLO with our own peer_id (${answeredAs}); taken as the peer we dialed`);
      }
      this.peerId ??= answeredAs;
      const extensions = negotiate({ direction: 'outbound', challenge: this.challenge, features: message.features, proof: message.proof }, this.ourFeatures);
      const unproven = EXTENSIONS.filter((f) => message.features.includes(f) && this.ourFeatures.includes(f) && !extensions.has(f));
      if (unproven.length > 0) this.hooks.quirk(this, `advertises ${unproven.join(', ')} without the proof (an echo of our HELLO?): plain protocol`);
      if (extensions.has(FEATURE_SECURE)) {
        this.beginSecure(this.helloLine!.subarray(0, -1), line, message.features, extensions);
        return;
      }
      this.open(message.features, extensions);
      this.announceOpen();
    } else {
      this.log.debug(`${this.label}: ignoring ${message.type} before HELLO_OK`);
    }
  }

  private open(features: string[], extensions: ReadonlySet<string>): void {
    clearTimeout(this.handshakeTimer);
    this.state = 'open';
    this.features = features;
    this.extensions = extensions;
    this.pingTimer = setInterval(() => this.keepAlive(), this.timers.pingIntervalMs);
  }

  private keepAlive(): void {
    if (this.state !== 'open') return;
    if (this.awaitingPong) this.missedPongs += 1;
    if (this.missedPongs >= this.timers.maxMissedPongs) {
      this.log.warn(`${this.label} missed ${this.missedPongs} PONGs: stale`);
      void this.close('no PONG', 'stale');
      return;
    }
    const msgId = randomUUID();
    // Forget PINGs that can no longer count: a late PONG for one of them is just ignored.
    if (this.pendingPings.size >= this.timers.maxMissedPongs) this.pendingPings.delete(this.pendingPings.keys().next().value!);
    this.pendingPings.set(msgId, performance.now());
    this.awaitingPong = true;
    this.enqueue({ bytes: encodeFrame({ type: 'PING', msg_id: msgId, timestamp: isoNow(this.now()), ttl: 1 }), answer: { type: 'PONG', msgId } }, true);
  }

  /**
   * A peer PINGs every 30 s and waits for the PONG. One that PINGs again while our last PONG has
   * not even left is flooding: its newest PING is answered instead, so the flood queues nothing.
   */
  private answerPing(msgId: string | undefined): void {
    const bytes = encodeFrame({ type: 'PONG', msg_id: msgId, timestamp: isoNow(this.now()), ttl: 1 });
    const waiting = this.queuedPong;
    if (waiting !== undefined) {
      if (this.coalescedPings++ === 0) this.log.warn(`${this.label}: PING flood, answering only its latest PING`);
      this.queuedFrameBytes += bytes.length - waiting.bytes.length;
      waiting.bytes = bytes;
      return;
    }
    const pong = { bytes, reply: true };
    this.queuedPong = pong;
    this.enqueue(pong, true);
  }

  private onPong(msgId: string | undefined): void {
    if (msgId !== undefined) this.releaseSlot('PONG', msgId);
    if (msgId !== undefined && msgId === this.probeId) {
      this.probeId = undefined;
      return;
    }
    const sentAt = msgId === undefined ? undefined : this.pendingPings.get(msgId);
    if (msgId === undefined || sentAt === undefined) {
      this.log.debug(`${this.label}: PONG for no PING of ours`);
      return;
    }
    this.pendingPings.delete(msgId);
    this.awaitingPong = false;
    this.missedPongs = 0;
    this.lastRttMs = performance.now() - sentAt;
    this.rttSamples.push(this.lastRttMs);
    if (this.rttSamples.length > RTT_SAMPLES) this.rttSamples.shift();
    this.log.debug(`PING ${this.label} RTT ${this.lastRttMs.toFixed(1)} ms`);
    this.hooks.rtt(this);
  }

  private strike(error: string): void {
    this.strikes += 1;
    this.hooks.invalidFrame(this);
    this.log.warn(`${this.label}: bad frame (${error}), strike ${this.strikes} of ${this.timers.maxStrikes}`);
    if (this.strikes < this.timers.maxStrikes) return;
    if (this.state === 'open') void this.close('too many invalid frames', 'protocol');
    else this.finish({ kind: 'protocol', reason: 'too many invalid frames' });
  }

  private writeNow(message: Record<string, unknown>): void {
    this.write(encodeFrame(message));
  }

  /** Every byte leaves here: sealed once the secure channel is up. */
  private write(bytes: Buffer, options: { clear?: boolean } = {}): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.channel?.ready && !options.clear) this.channel.send([{ bytes }]);
    else this.socket.write(bytes);
  }

  /**
   * Queued frames in one write. Sealed, each run of frames is one batch of SEALED boxes and each
   * file chunk its own SEALED_CHUNK box, sealed in the order they leave (secure/channel.ts).
   */
  private writeFrames(frames: OutgoingFrame[]): void {
    const channel = this.channel;
    if (channel?.ready !== true || frames.every((f) => f.chunkHead === undefined)) {
      this.write(frames.length === 1 ? frames[0]!.bytes : Buffer.concat(frames.map((f) => f.bytes)));
      return;
    }
    if (this.socket.destroyed || !this.socket.writable) return;
    channel.send(frames);
  }

  private enqueue(frame: OutgoingFrame, urgent: boolean): void {
    // A peer being dropped for not reading is sent nothing more.
    if (this.state === 'closed' || this.overflowing) return;
    (urgent ? this.urgent : this.normal).push(frame);
    this.queuedFrameBytes += frame.bytes.length;
    if (!this.isPipelined) {
      this.flush();
      this.checkQueue();
      return;
    }
    // Each frame counts at once: one commit may release the ACKs of many reads together.
    this.checkQueue();
    if (!this.flushScheduled) {
      // Everything queued while handling one read (ACKs freeing the window, our own ACKs) leaves
      // in one write.
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
        this.checkQueue();
      });
    }
  }

  /**
   * Bounds what a peer that does not read can make us hold (as Redis bounds a client's output
   * buffer): over the limit the connection is dropped, and its buffers with it.
   */
  private checkQueue(): void {
    if (this.state === 'closed') return;
    const queued = this.queuedBytes;
    if (queued > this.peakQueued) this.peakQueued = queued;
    if (queued <= this.maxWriteQueueBytes || this.overflowing) return;
    this.overflowing = true;
    this.log.warn(`${this.label} is not reading: ${queued} bytes queued for it (limit ${this.maxWriteQueueBytes}), dropping the connection`);
    // Not from inside the caller (the router may be in the middle of writing to us): just after.
    queueMicrotask(() => this.finish({ kind: 'overflow', reason: `not reading (over ${this.maxWriteQueueBytes} bytes queued)` }));
  }

  /**
   * Toward a pipelining peer every queued frame goes out at once. Toward any other, one frame at
   * a time: the next waits for evidence that the peer read the last (its answer to our request,
   * its next request after our reply). A frame nothing answers (a PUB, a reply no request
   * followed) gets a short gap and then a PING: its PONG shows the PING was the first line of a
   * read, so the frame before it was read alone. If the two still met in one read, the PING is
   * what the peer drops, never a message. A frame that awaits an answer that never comes holds the
   * line at most LEGACY_ANSWER_HOLD_MS.
   */
  private flush(): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.isPipelined) {
      const frames = this.urgent.splice(0).concat(this.normal.splice(0));
      this.queuedFrameBytes = 0;
      this.queuedPong = undefined;
      if (frames.length > 0) this.writeFrames(frames);
      for (const f of frames) f.onWritten?.();
      return;
    }
    if (this.slot !== undefined && !this.slot.unproven) return;
    const next = this.urgent[0] ?? this.normal[0];
    if (next === undefined) return;
    // A keep-alive PING asks the question itself.
    if (this.slot?.unproven && next.answer?.type !== 'PONG') {
      this.probeId = randomUUID();
      this.writeLegacy({ bytes: encodeFrame({ type: 'PING', msg_id: this.probeId, timestamp: isoNow(this.now()), ttl: 1 }), answer: { type: 'PONG', msgId: this.probeId } });
      return;
    }
    (this.urgent[0] === next ? this.urgent : this.normal).shift();
    this.queuedFrameBytes -= next.bytes.length;
    if (next === this.queuedPong) this.queuedPong = undefined;
    this.writeLegacy(next);
    next.onWritten?.();
  }

  /** Writes one frame toward a legacy peer, which holds the line until the peer shows it read it. */
  private writeLegacy(frame: OutgoingFrame): void {
    if (this.slot?.timer !== undefined) clearTimeout(this.slot.timer);
    this.writeFrames([frame]);
    const slot = { answer: frame.answer, reply: frame.reply ?? false, read: this.reads, timer: undefined as NodeJS.Timeout | undefined, unproven: false };
    slot.timer = frame.answer
      ? // Never hold longer than half a PING period, so that keep-alive PINGs still go out on time.
        setTimeout(() => this.freeLine(), Math.min(LEGACY_ANSWER_HOLD_MS, this.timers.pingIntervalMs / 2))
      : setTimeout(() => {
          slot.timer = undefined;
          slot.unproven = true;
          this.flush();
        }, LEGACY_FRAME_GAP_MS);
    this.slot = slot;
  }

  private freeLine(): void {
    if (this.slot?.timer !== undefined) clearTimeout(this.slot.timer);
    this.slot = undefined;
    this.flush();
  }

  /**
   * A SEND or PING of the peer's. A stop-and-wait peer sends its next request only once it has our
   * reply to the last, so one read after our reply went out shows the reply was read and the line
   * is free. One from the same read crossed our reply, and shows nothing.
   */
  private peerRequested(): void {
    const slot = this.slot;
    if (slot === undefined || !slot.reply || slot.read >= this.reads) return;
    this.freeLine();
  }

  private releaseSlot(type: 'ACK' | 'PONG', msgId: string): void {
    const answer = this.slot?.answer;
    if (answer === undefined || answer.type !== type || answer.msgId !== msgId) return;
    this.freeLine();
  }

  private finish(info: Omit<CloseInfo, 'wasOpen'>): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open' || this.state === 'closing';
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    clearInterval(this.pingTimer);
    if (this.slot?.timer !== undefined) clearTimeout(this.slot.timer);
    this.urgent.length = 0;
    this.normal.length = 0;
    this.queuedFrameBytes = 0;
    this.queuedPong = undefined;
    // Our BYE_OK must still reach the peer: end after it is written (sealed, after the lines before it).
    if (info.kind !== 'bye') this.socket.destroy();
    else if (this.channel?.ready) this.channel.afterWrites(() => this.socket.destroySoon());
    else this.socket.destroySoon();
    const closeInfo = { ...info, wasOpen };
    this.resolveClosed(closeInfo);
    this.hooks.closed(this, closeInfo);
  }
}
