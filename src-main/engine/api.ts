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

/**
 * What we know of who is at the other end (chatp2p-secure, docs/SECURE.md). `encrypted`: sealed,
 * with the identity key pinned for this peer_id; `plain`: a peer without the extension, never
 * secure with us; `key-changed`: sealed, but with a key other than the pinned one, so our DMs wait
 * until the user accepts it; `unverified`: a plaintext connection claiming a peer_id that was
 * secure before (a downgrade): its messages are marked, and it gets none of ours.
 */
export type PeerSecurity = 'encrypted' | 'plain' | 'key-changed' | 'unverified';

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
  /** Of the current connection; undefined while there is none. */
  security: PeerSecurity | undefined;
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
  /** Came on a connection that could not prove the peer's pinned identity key (a downgrade or a changed key). */
  unverified?: true;
}

/** A peer's identity key as chatp2p-secure pinned it (docs/SECURE.md). */
export interface PeerKeyView {
  peerId: string;
  /** The pinned X25519 public key, hex in groups of four. */
  fingerprint: string;
  /** 60 digits in groups of five, built from both identity keys: the same on both sides. */
  safetyNumber: string;
  /** The user compared the safety number with the peer and marked it verified. */
  verified: boolean;
  pinnedAt: number;
  /** The peer showed a different key since: our DMs to it wait until the user accepts it. */
  keyChanged: boolean;
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
  /** A key was pinned, changed, accepted or verified. */
  keys: PeerKeyView;
  log: LogEvent;
}

export type EngineEventName = keyof EngineEvents;

/** A command refused for what the caller sent (bad peer_id, empty text, ...); the message says why. */
export class EngineCommandError extends Error {}
