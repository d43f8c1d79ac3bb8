// The ChatApi: the one contract between the host (Electron main, or the browser host in
// src-main/web) and the renderer. Every command and event is named here with its types, plus the
// channel names and the envelopes that carry them. Main, preload, the browser bridge and the
// renderer import this file; nothing else crosses the boundary. Everything is plain JSON.

import type {
  DeliveryState,
  EngineCounters,
  FileTransfer,
  TransferState,
  LogEvent,
  LogLevel,
  PeerView,
  RegistrationView,
} from '../src-main/engine/api.ts';

export type { DeliveryState, FileTransfer, LogEvent, LogLevel, RegistrationView, TransferState };
export { LOG_LEVELS } from '../src-main/engine/api.ts';

/** What both sides check: the renderer to explain a refusal before it happens, main to enforce it. */
export const LIMITS = {
  /** name and namespace, in characters (PROTOCOL.md). */
  maxIdentityChars: 64,
  minTtl: 1,
  maxTtl: 86400,
  /**
   * Bytes of JSON-escaped text one message may carry: a frame is at most 32 KiB, and 2 KiB stays
   * free for the envelope whatever the two peer_ids are (at most 129 characters each).
   */
  maxTextBytes: 30 * 1024,
  /** Messages a history page holds by default, and at most. */
  historyPage: 100,
  maxHistoryPage: 500,
  /** Search: the longest query, and the most results one search returns (newest first). */
  maxSearchChars: 200,
  searchResults: 50,
  /** Bytes of a dropped file per `uploadChunk` (its base64 fits the browser host's 256 KiB request). */
  uploadChunkBytes: 128 * 1024,
} as const;

/** Bytes the text takes inside a frame: UTF-8 after JSON escaping (a newline is `\n`, two bytes). */
export function wireTextBytes(text: string): number {
  return new TextEncoder().encode(JSON.stringify(text)).length - 2;
}

// ---- Conversations ---------------------------------------------------------------------------

/** `dm:<peer_id>` for a direct chat, `#<namespace>` for a namespace channel, `*` for broadcast. */
export type ConversationId = string;
export type ConversationKind = 'dm' | 'namespace' | 'broadcast';

export const BROADCAST: ConversationId = '*';
export const dmConversation = (peerId: string): ConversationId => `dm:${peerId}`;

export function conversationKind(id: ConversationId): ConversationKind {
  if (id === BROADCAST) return 'broadcast';
  return id.startsWith('dm:') ? 'dm' : 'namespace';
}

export interface ChatMessage {
  conversationId: ConversationId;
  /** Position in this profile's history (the order messages were stored in): the paging cursor. */
  seq: number;
  msgId: string;
  direction: 'in' | 'out';
  kind: 'dm' | 'pub';
  /** The sender's peer_id (ours for an outgoing message). */
  from: string;
  /** A peer_id for a DM; `*` or `#namespace` for a PUB. */
  to: string;
  text: string;
  /** When we sent or received it (ms since the epoch). */
  at: number;
  /** The sender's own timestamp, for incoming messages that carried a readable one. */
  sentAt?: number;
  /**
   * Outgoing only. PUBs end at `sent`; `recipients` says to how many open connections. A queued
   * DM waits in the outbox until delivered or cancelled; `error` says why it is waiting.
   */
  delivery?: DeliveryState;
  recipients?: number;
  error?: string;
  /** Incoming only: the `src` the frame claimed when it differed from the connection's peer. */
  claimedSrc?: string;
}

export interface ConversationSummary {
  id: ConversationId;
  kind: ConversationKind;
  /** peer_id, `#namespace` or `*`. */
  title: string;
  unread: number;
  /** Our DMs here still waiting in the outbox (queued or sent, not yet acknowledged). */
  queued: number;
  last: { from: string; text: string; at: number } | undefined;
  /** Messages here raise desktop notifications (always for DMs, opt-in for channels). */
  notify: boolean;
}

/** Which page of a conversation: the latest by default; `around` opens it at a search hit. */
export interface HistoryQuery {
  /** Older than this seq (scrolling up). */
  before?: number;
  /** Newer than this seq (scrolling down after a jump). */
  after?: number;
  /** This message and the ones around it. */
  around?: number;
  /** Default `LIMITS.historyPage`, at most `LIMITS.maxHistoryPage`. */
  limit?: number;
}

export interface HistoryPage {
  /** Oldest first. */
  messages: ChatMessage[];
  hasOlder: boolean;
  /** False when the page ends with the conversation's latest message. */
  hasNewer: boolean;
}

export interface SearchResult {
  conversationId: ConversationId;
  message: ChatMessage;
  /** The text around the match, in order; `match` parts are the words found. Plain text, no HTML. */
  parts: { text: string; match: boolean }[];
}

export type ExportFormat = 'text' | 'json';

/** A conversation written out; the renderer offers it as a download. */
export interface ExportedConversation {
  fileName: string;
  mimeType: string;
  content: string;
}

// ---- Peers and status ------------------------------------------------------------------------

/** `offline`: someone we have a conversation with who is not on the rendezvous list any more. */
export type ChatPeerState = PeerView['state'] | 'offline';
export type ChatPeer = Omit<PeerView, 'state'> & { state: ChatPeerState };

export interface AppStatus {
  /** The engine is running for the saved profile. */
  running: boolean;
  peerId: string | undefined;
  listen: { host: string; port: number } | undefined;
  registration: RegistrationView | undefined;
  openConnections: number;
  avgRttMs: number | undefined;
  logLevel: LogLevel;
  counters: EngineCounters | undefined;
  /** Why the engine is not running (bad port, port in use, ...), in words for the user. */
  error: string | undefined;
  /** The embedded rendezvous server, when the profile uses "This computer". */
  localServer: { host: string; port: number } | undefined;
}

// ---- Settings --------------------------------------------------------------------------------

export type RendezvousPreset = 'local' | 'unb' | 'custom';

/** "This computer" runs our embedded server; "UnB class server" is the course's public one. */
export const RENDEZVOUS_PRESETS = {
  local: { host: '127.0.0.1', port: 8080 },
  unb: { host: 'pyp2p.mfcaetano.cc', port: 8080 },
} as const;

export interface Profile {
  name: string;
  namespace: string;
  /** TCP port peers dial us on; 0 picks a free one. */
  port: number;
  /** Seconds the rendezvous server keeps our record. */
  ttl: number;
  rendezvous: { preset: RendezvousPreset; host: string; port: number };
}

/** The protocol's timers, in seconds as the Python clients' config has them. */
export interface Timers {
  ackTimeoutS: number;
  pingIntervalS: number;
  discoverIntervalS: number;
  maxReconnectAttempts: number;
}

export type Theme = 'system' | 'light' | 'dark';
export type Language = 'system' | 'en' | 'pt-BR';

export interface Settings {
  /** Undefined until the first-run form is done. */
  profile: Profile | undefined;
  timers: Timers;
  /** Dial every discovered peer, or only those of our namespace. */
  connectionPolicy: 'all' | 'namespace';
  /** Desktop notifications for direct messages. */
  notifications: boolean;
  /** Channels (`#namespace` or `*`) whose messages notify too. */
  notifyChannels: ConversationId[];
  theme: Theme;
  language: Language;
  /** Closing the window hides it in the tray instead of quitting. */
  minimizeToTray: boolean;
  logLevel: LogLevel;
  files: FileSettings;
}

/** Files from other ChatP2P peers (chatp2p-files). */
export interface FileSettings {
  /** Where accepted files go; undefined: the system's Downloads folder. */
  downloadDir: string | undefined;
  /** Offers over this size are declined at once. */
  maxMB: number;
  /** Offers up to this size from a verified peer are accepted without asking; 0: always ask. */
  autoAcceptMB: number;
}

/** Whether files can be offered to a peer now, and if not, why (in words for the user). */
export interface FileSupport {
  support: 'yes' | 'legacy' | 'offline';
  reason: string | undefined;
}

/** Everything but the profile, which changes only through `startProfile`. */
export type SettingsPatch = Partial<Omit<Settings, 'profile' | 'timers' | 'files'>> & { timers?: Partial<Timers>; files?: Partial<FileSettings> };

/** What the renderer needs to draw the whole app at once. */
export interface Snapshot {
  settings: Settings;
  status: AppStatus;
  peers: ChatPeer[];
  conversations: ConversationSummary[];
  /** Electron or a browser tab: decides, for example, whether the tray setting means anything. */
  host: 'electron' | 'web';
}

// ---- Commands and events ---------------------------------------------------------------------

/** Every command: its arguments and what it resolves to. A refusal rejects with a readable message. */
export interface ChatCommands {
  getSnapshot: { args: []; result: Snapshot };
  /** Validates, saves and (re)starts the engine with this profile (BYE and UNREGISTER first). */
  startProfile: { args: [profile: Profile]; result: Snapshot };
  updateSettings: { args: [patch: SettingsPatch]; result: Settings };
  sendDirect: { args: [peerId: string, text: string]; result: ChatMessage };
  /** To `*` or `#namespace`. */
  publish: { args: [to: ConversationId, text: string]; result: ChatMessage };
  /** "Try now" for a DM waiting in the outbox: same msg_id, its peer dialed at once. */
  retry: { args: [msgId: string]; result: ChatMessage };
  /** Takes a waiting DM out of the outbox; it shows as cancelled (delivered, if its ACK still comes). */
  cancel: { args: [msgId: string]; result: ChatMessage };
  /** Clears one peer's failures and dials it now. */
  reconnect: { args: [peerId: string]; result: void };
  discover: { args: []; result: void };
  setLogLevel: { args: [level: LogLevel]; result: void };
  history: { args: [conversationId: ConversationId, query?: HistoryQuery]; result: HistoryPage };
  /** Full-text search over every conversation; accents and case do not matter, words match by their start. */
  search: { args: [text: string]; result: SearchResult[] };
  exportConversation: { args: [conversationId: ConversationId, format: ExportFormat]; result: ExportedConversation };
  /** Deletes the conversation's messages from this computer (queued DMs in it are cancelled). */
  deleteConversation: { args: [conversationId: ConversationId]; result: void };
  markRead: { args: [conversationId: ConversationId]; result: void };
  /** The conversation on screen (undefined: none); its messages arrive already read. */
  setActiveConversation: { args: [conversationId: ConversationId | undefined]; result: void };
  logs: { args: []; result: LogEvent[] };
  /** Opens an http(s) link in the system browser, after main's own check. */
  openLink: { args: [url: string]; result: void };
  /** Asks the user to pick files (the host's own dialog: no path comes from the renderer) and offers them all. */
  attachFiles: { args: [peerId: string]; result: FileTransfer[] };
  /**
   * A file dropped on a conversation, sent by the renderer itself (it has the bytes, never a path):
   * `beginUpload` reserves it, `uploadChunk` carries it in order, `finishUpload` offers it.
   */
  beginUpload: { args: [peerId: string, name: string, size: number]; result: string };
  uploadChunk: { args: [uploadId: string, offset: number, data: string]; result: void };
  finishUpload: { args: [uploadId: string]; result: FileTransfer };
  acceptFile: { args: [id: string]; result: FileTransfer };
  declineFile: { args: [id: string]; result: FileTransfer };
  /** Stops a transfer, ours or theirs. */
  cancelTransfer: { args: [id: string]; result: FileTransfer };
  transfers: { args: []; result: FileTransfer[] };
  fileSupport: { args: [peerId: string]; result: FileSupport };
  /** Opens a file we received, verified, with its application (main only; never one that runs code). */
  openDownload: { args: [id: string]; result: void };
  /** A received, verified image's bytes (PNG, JPEG, GIF or WebP by its content, at most 8 MB), for a thumbnail. */
  previewDownload: { args: [id: string]; result: { mediaType: string; data: string } };
  /** Shows a file we received in its folder (main only). */
  showDownload: { args: [id: string]; result: void };
}

export type CommandName = keyof ChatCommands;

// Keyed by name, so TypeScript refuses a command missing from the list as well as an unknown one.
const COMMAND_NAMES: Record<CommandName, true> = {
  getSnapshot: true,
  startProfile: true,
  updateSettings: true,
  sendDirect: true,
  publish: true,
  retry: true,
  cancel: true,
  reconnect: true,
  discover: true,
  setLogLevel: true,
  history: true,
  search: true,
  exportConversation: true,
  deleteConversation: true,
  markRead: true,
  setActiveConversation: true,
  logs: true,
  openLink: true,
  attachFiles: true,
  beginUpload: true,
  uploadChunk: true,
  finishUpload: true,
  acceptFile: true,
  declineFile: true,
  cancelTransfer: true,
  transfers: true,
  fileSupport: true,
  openDownload: true,
  previewDownload: true,
  showDownload: true,
};
export const COMMANDS = Object.keys(COMMAND_NAMES) as CommandName[];

export interface ChatEvents {
  status: AppStatus;
  peer: ChatPeer;
  'peer-removed': { peerId: string };
  /** A new message, incoming or our own. */
  message: ChatMessage;
  /** Our message's delivery state changed. */
  delivery: ChatMessage;
  /** Unread counts, queued counts, previews or the conversation list changed (one deleted, too). */
  conversations: ConversationSummary[];
  settings: Settings;
  log: LogEvent;
  /** The host asks the UI to show a conversation (a notification was clicked). */
  'open-conversation': { conversationId: ConversationId };
  /** A file transfer changed state or moved on (a few times a second at most). */
  transfer: FileTransfer;
  /** The system refused a desktop notification for this message: the UI shows it as a banner instead. */
  'in-app-notification': ChatMessage;
}

export type EventName = keyof ChatEvents;

export type ChatApi = {
  [K in CommandName]: (...args: ChatCommands[K]['args']) => Promise<ChatCommands[K]['result']>;
} & {
  /** Subscribes to one event; returns the function that unsubscribes. */
  on<K extends EventName>(event: K, listener: (payload: ChatEvents[K]) => void): () => void;
};

// ---- Transport ---------------------------------------------------------------------------------

/** Electron IPC: one `ipcMain.handle` channel per command, one channel for every event. */
export const commandChannel = (command: CommandName): string => `chat:${command}`;
export const EVENT_CHANNEL = 'chat:event';

export type CommandReply<T = unknown> = { ok: true; value: T } | { ok: false; error: string };
export interface EventEnvelope<K extends EventName = EventName> {
  event: K;
  payload: ChatEvents[K];
}

/** The browser host's WebSocket carries requests and replies with an id, and events. */
export interface WireRequest {
  id: number;
  command: CommandName;
  args: unknown[];
}
export type WireReply = { id: number } & CommandReply;
export type WireMessage = WireReply | EventEnvelope;

/** http and https links only, parsed rather than pattern-matched; anything else is refused. */
export function allowedExternalUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || !url.hostname) return undefined;
  return url.href;
}
