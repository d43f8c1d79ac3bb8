// The engine's contract with its hosts (terminal, desktop main process, browser bridge): typed
// commands in, typed events out. Every type here is plain JSON, so it crosses IPC and WebSockets
// as it is; this is what the desktop app's ChatApi is built on.

// It imports nothing, so the desktop app's contract can share these types with the renderer.

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'unreachable' | 'blocked' | 'refused';

export interface RegistrationView {
  state: RegistrationState;
  /** `host:port` of the rendezvous server. */
  server: string;
  /** The address the server saw us come from: what other peers will dial. */
  ip: string | undefined;
  ttl: number | undefined;
  /** When our record expires on the server (ms since the epoch). */
  expiresAt: number | undefined;
  error: string | undefined;
  /** When the next attempt is due, after a failure (ms since the epoch). */
  retryAt: number | undefined;
}

/** `closed`: known but not connected (left, or not dialed by policy); `failed`: reconnects exhausted. */
export type PeerState = 'connecting' | 'open' | 'stale' | 'closed' | 'failed';

export interface PeerView {
  peerId: string;
  name: string;
  namespace: string;
  state: PeerState;
  /** Who dialed whom, for the current or last connection. */
  direction: 'inbound' | 'outbound' | undefined;
  /** `ip:port` from the rendezvous server; undefined for a peer we only know from its own dial. */
  address: string | undefined;
  lastRttMs: number | undefined;
  avgRttMs: number | undefined;
  reconnectAttempts: number;
  /** When the next dial is due while reconnecting (ms since the epoch). */
  nextRetryAt: number | undefined;
  lastError: string | undefined;
  /** Both sides speak `chatp2p-pipeline`: messages are windowed rather than one at a time. */
  pipelined: boolean;
}

/**
 * `queued`: in the outbox, waiting for a connection or its turn (`error` says why, when the peer
 * is away); `sent`: written, ACK pending; `cancelled`: the user took it back before its ACK.
 * PUBs end at `sent`. A DM is never given up on by itself: it waits until delivered or cancelled.
 */
export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'cancelled';

export interface OutgoingMessage {
  /** Position in this profile's history: the order messages were stored in. */
  seq: number;
  msgId: string;
  kind: 'dm' | 'pub';
  /** A peer_id for a DM; `*` or `#namespace` for a PUB. */
  to: string;
  text: string;
  state: DeliveryState;
  /** Times the SEND was written (retries use the same msg_id). */
  attempts: number;
  createdAt: number;
  error: string | undefined;
  /** For a PUB: how many open connections it was written to. */
  recipients: number | undefined;
}

export interface IncomingMessage {
  /** Position in this profile's history: the order messages were stored in. */
  seq: number;
  msgId: string;
  kind: 'dm' | 'pub';
  /** The peer_id the connection's HELLO proved, whatever the frame's `src` claimed. */
  from: string;
  /** Our peer_id for a DM; `*` or `#namespace` for a PUB. */
  to: string;
  text: string;
  receivedAt: number;
  /** The sender's `timestamp`, when readable (ms since the epoch). */
  sentAt: number | undefined;
  /** Set when the frame's `src` differed from the connection's peer_id. */
  claimedSrc: string | undefined;
}

/**
 * A file offered between two ChatP2P peers (`chatp2p-files`). `offered`: waiting for the
 * receiver's Accept or Decline, until `expiresAt`; `transferring`: accepted, `offset` bytes
 * written and hashed on the receiver's side; `complete`: the SHA-256 matched and the file is at
 * `path`. The others are ends, with `error` saying why.
 */
export type TransferState = 'offered' | 'transferring' | 'complete' | 'declined' | 'cancelled' | 'expired' | 'failed';

export interface FileTransfer {
  /** The offer's `file_id`, chosen by the sender. */
  id: string;
  direction: 'in' | 'out';
  /** The other peer. */
  peerId: string;
  /** As offered (untrusted for an incoming one); the file on disk has a safe name (`path`). */
  name: string;
  size: number;
  mediaType: string;
  sha256: string;
  state: TransferState;
  /** Bytes the receiver has written and hashed: where a dropped transfer resumes. */
  offset: number;
  /** Ours: the file we send. Theirs: where it is written (`path + '.part'` until verified). */
  path: string | undefined;
  error: string | undefined;
  /** When it was offered (ms since the epoch). */
  at: number;
  expiresAt: number;
  /** Recent speed, while transferring. */
  bytesPerSecond: number | undefined;
}

export interface LogEvent {
  time: string;
  level: LogLevel;
  module: string;
  message: string;
}

export interface EngineStatus {
  peerId: string;
  /** The address we accept peers on. */
  listen: { host: string; port: number };
  registration: RegistrationView;
  peers: { known: number; open: number };
  avgRttMs: number | undefined;
  logLevel: LogLevel;
  counters: EngineCounters;
}

export interface EngineCounters {
  /** Frames that were not valid JSON objects or valid messages. */
  invalidFrames: number;
  /** SEND/PUB frames whose `src` was not the connection's peer_id. */
  spoofed: number;
  /** Retried SENDs we had already shown. */
  duplicates: number;
}

export interface EngineEvents {
  registration: RegistrationView;
  peer: PeerView;
  'peer-removed': { peerId: string };
  message: IncomingMessage;
  delivery: OutgoingMessage;
  /** A file transfer changed state, or moved on (at most a few times a second). */
  transfer: FileTransfer;
  log: LogEvent;
}

export type EngineEventName = keyof EngineEvents;

/** A command refused for what the caller sent (bad peer_id, empty text, ...); the message says why. */
export class EngineCommandError extends Error {}
