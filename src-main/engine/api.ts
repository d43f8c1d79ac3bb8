// The engine's contract with its hosts (terminal, desktop main process, browser bridge): typed
// commands in, typed events out. Every type here is plain JSON, so it crosses IPC and WebSockets
// as it is; this is what the desktop app's ChatApi is built on.

// The views the renderer shows as they are live in src-shared/views.ts, which the contract shares.
import type { DeliveryState, EngineCounters, FileTransfer, LogEvent, LogLevel, PeerKeyView, PeerView, RegistrationView } from '../../src-shared/views.ts';

export { LOG_LEVELS, OVER_MAX_SIZE } from '../../src-shared/views.ts';
export type { DeliveryState, EngineCounters, FileTransfer, LogEvent, LogLevel, PeerKeyView, PeerSecurity, PeerState, PeerView, RegistrationState, RegistrationView, TransferState } from '../../src-shared/views.ts';

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
  /** A DM answering this msg_id (chatp2p-receipts `reply_to`; the quoted line is in `text` for every peer). */
  replyTo?: string;
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
  /** The msg_id this DM answers, from a peer that negotiated chatp2p-receipts. */
  replyTo?: string;
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

export interface EngineEvents {
  registration: RegistrationView;
  peer: PeerView;
  'peer-removed': { peerId: string };
  message: IncomingMessage;
  delivery: OutgoingMessage;
  /** A ChatP2P peer started or stopped typing to us (chatp2p-receipts; it stops by itself after a few seconds). */
  typing: { peerId: string; typing: boolean };
  /** A key was pinned, changed, accepted or verified. */
  keys: PeerKeyView;
  /** A file transfer changed state, or moved on (at most a few times a second). */
  transfer: FileTransfer;
  log: LogEvent;
}

export type EngineEventName = keyof EngineEvents;

/** What kind of refusal: a host words it in its own language (the terminal keeps the message). */
export type EngineErrorCode =
  | 'invalid'
  | 'not-running'
  | 'unknown-peer'
  | 'own-peer-id'
  | 'not-waiting'
  | 'too-long'
  | 'history'
  | 'files-unsupported'
  | 'file-unreadable'
  | 'folder-unwritable'
  | 'transfer-ended';

/** A command refused for what the caller sent (bad peer_id, empty text, ...); the message says why. */
export class EngineCommandError extends Error {
  readonly code: EngineErrorCode;

  constructor(message: string, code: EngineErrorCode = 'invalid') {
    super(message);
    this.code = code;
  }
}
