// What the engine reports and the renderer shows as it is: registration, peers, delivery states,
// log lines and counters. Plain JSON with no imports, so the ChatApi contract and the engine
// (src-main/engine/api.ts) both take these types from here, and the contract imports nothing from main.

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
  /**
   * Since when the server has not answered (the first of the failed exchanges in a row, REGISTER
   * or DISCOVER); undefined once one succeeds. `state` may still say `registered` meanwhile: our
   * record may well be there, but nobody can find us through a server we cannot reach.
   */
  unreachableSince: number | undefined;
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


/**
 * `queued`: in the outbox, waiting for a connection or its turn (`error` says why, when the peer
 * is away); `sent`: written, ACK pending; `delivered`: ACKed; `read`: the peer's ChatP2P client
 * showed it (chatp2p-receipts); `cancelled`: the user took it back before its ACK.
 * PUBs end at `sent`. A DM is never given up on by itself: it waits until delivered or cancelled.
 */
export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'read' | 'cancelled';

/**
 * A file offered between two ChatP2P peers (`chatp2p-files`). `offered`: waiting for the
 * receiver's Accept or Decline, until `expiresAt`; `transferring`: accepted, `offset` bytes
 * written and hashed on the receiver's side; `complete`: the SHA-256 matched and the file is at
 * `path`. The others are ends, with `error` saying why.
 */
export type TransferState = 'offered' | 'transferring' | 'complete' | 'declined' | 'cancelled' | 'expired' | 'failed';

/** How the receiver's engine begins `error` for an offer it declined for its size (the UI words it in the user's language). */
export const OVER_MAX_SIZE = 'over the maximum size';

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

export interface EngineCounters {
  /** Frames that were not valid JSON objects or valid messages. */
  invalidFrames: number;
  /** SEND/PUB frames whose `src` was not the connection's peer_id. */
  spoofed: number;
  /** Retried SENDs we had already shown. */
  duplicates: number;
}
