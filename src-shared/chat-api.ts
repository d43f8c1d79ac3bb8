// The ChatApi: the one contract between the host (Electron main, or the browser host in
// src-main/web) and the renderer. Every command and event is named here with its types, plus the
// channel names and the envelopes that carry them. Main, preload, the browser bridge and the
// renderer import this file; nothing else crosses the boundary. Everything is plain JSON.

import type { DeliveryState, EngineCounters, FileTransfer, LogEvent, LogLevel, PeerKeyView, PeerSecurity, PeerView, RegistrationView, TransferState } from './views.ts';

export type { DeliveryState, FileTransfer, LogEvent, LogLevel, PeerKeyView, PeerSecurity, RegistrationView, TransferState };
export { LOG_LEVELS, OVER_MAX_SIZE } from './views.ts';

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

// ---- Errors ----------------------------------------------------------------------------------

/**
 * A refusal or a failure as it crosses the ChatApi: a code and its parameters, never a sentence,
 * so the renderer words it in the user's language. `detail` is the raw text behind it (an errno,
 * the server's reply) for a "details" disclosure, never the headline. Commands reject with one.
 */
export type ChatError = (
  | { code: 'port-in-use'; port: number }
  /** The port cannot be listened on for another reason (below 1024 without rights, ...). */
  | { code: 'port-unavailable'; port: number }
  /** "This computer": the embedded rendezvous server cannot start on its port. */
  | { code: 'local-server-failed'; port: number }
  /** No answer from the rendezvous server (refused, timed out, no such host). */
  | { code: 'rendezvous-unreachable'; server: string }
  /** The rendezvous server answered, but not as a PyP2P server does. */
  | { code: 'rendezvous-bad-reply'; server: string }
  /** The rendezvous server refused us (name taken, ...). */
  | { code: 'rendezvous-refused'; server: string }
  /** The rendezvous server blocks this IP for `seconds` (too many requests). */
  | { code: 'rendezvous-blocked'; server: string; seconds: number }
  /** The profile's history file cannot be used (damaged, another profile's, locked by another run). */
  | { code: 'history-unavailable' }
  | { code: 'invalid-profile' }
  /** No profile yet, or the engine is not running for it. */
  | { code: 'not-connected' }
  /** Try now / Cancel on a message that is no longer waiting. */
  | { code: 'not-waiting' }
  | { code: 'unknown-peer' }
  | { code: 'own-peer-id' }
  | { code: 'message-too-long' }
  /** Arguments the host refused: a renderer bug or a hostile page, never something the user typed. */
  | { code: 'invalid-request' }
  /** A command that did not come from the app's own window. */
  | { code: 'refused-sender' }
  | { code: 'link-refused' }
  /** chatp2p-files: the peer's client has no file transfer (a PyP2P client). */
  | { code: 'files-unsupported' }
  /** Picking, opening or showing files needs the desktop app's own dialogs and shell. */
  | { code: 'desktop-only' }
  | { code: 'file-too-large'; maxMB: number }
  /** A dropped file did not reach the host whole. */
  | { code: 'upload-failed' }
  | { code: 'file-unreadable' }
  | { code: 'folder-unwritable' }
  /** The transfer is not in the state the command needs (already ended, or not an offer to us). */
  | { code: 'transfer-ended' }
  | { code: 'preview-unavailable' }
  | { code: 'file-open-failed' }
  /** The browser tab lost its WebSocket to the host. */
  | { code: 'host-disconnected' }
  | { code: 'unexpected' }
) & { detail?: string };

export type ChatErrorCode = ChatError['code'];

/** Keyed by code, so a code added above without a place here fails to compile. */
const ERROR_CODES: Record<ChatErrorCode, true> = {
  'port-in-use': true,
  'port-unavailable': true,
  'local-server-failed': true,
  'rendezvous-unreachable': true,
  'rendezvous-bad-reply': true,
  'rendezvous-refused': true,
  'rendezvous-blocked': true,
  'history-unavailable': true,
  'invalid-profile': true,
  'not-connected': true,
  'not-waiting': true,
  'unknown-peer': true,
  'own-peer-id': true,
  'message-too-long': true,
  'invalid-request': true,
  'refused-sender': true,
  'link-refused': true,
  'files-unsupported': true,
  'desktop-only': true,
  'file-too-large': true,
  'upload-failed': true,
  'file-unreadable': true,
  'folder-unwritable': true,
  'transfer-ended': true,
  'preview-unavailable': true,
  'file-open-failed': true,
  'host-disconnected': true,
  unexpected: true,
};

export function isChatError(value: unknown): value is ChatError {
  return typeof value === 'object' && value !== null && Object.hasOwn(ERROR_CODES, (value as { code?: unknown }).code as string);
}

/** What a rejected command (or anything else thrown) means, as a ChatError. */
export function asChatError(value: unknown): ChatError {
  if (isChatError(value)) return value;
  return { code: 'unexpected', detail: value instanceof Error ? value.message : String(value) };
}

// ---- Conversations ---------------------------------------------------------------------------

/**
 * `dm:<peer_id>` for a direct chat, `#<namespace>` for a namespace channel, `*` for broadcast, and
 * `dm-unverified:<peer_id>` for the DMs that claimed a pinned peer_id over a connection that could
 * not prove its key (chatp2p-secure): kept apart from that peer's chat, and never answered.
 */
export type ConversationId = string;
export type ConversationKind = 'dm' | 'unverified' | 'namespace' | 'broadcast';

export const BROADCAST: ConversationId = '*';
const DM_PREFIX = 'dm:';
const UNVERIFIED_PREFIX = 'dm-unverified:';
export const dmConversation = (peerId: string): ConversationId => `${DM_PREFIX}${peerId}`;
export const unverifiedConversation = (peerId: string): ConversationId => `${UNVERIFIED_PREFIX}${peerId}`;

export function conversationKind(id: ConversationId): ConversationKind {
  if (id === BROADCAST) return 'broadcast';
  if (id.startsWith(DM_PREFIX)) return 'dm';
  return id.startsWith(UNVERIFIED_PREFIX) ? 'unverified' : 'namespace';
}

/** The peer_id a direct chat (verified or not) is with; undefined for a channel. */
export function conversationPeer(id: ConversationId): string | undefined {
  if (id.startsWith(DM_PREFIX)) return id.slice(DM_PREFIX.length);
  return id.startsWith(UNVERIFIED_PREFIX) ? id.slice(UNVERIFIED_PREFIX.length) : undefined;
}

/**
 * Who a notification is from, in the terminal client's words: the peer_id for a DM, marked for one
 * that could not prove the pinned key (it must not pass for that peer), the channel after an arrow.
 */
export function senderTitle(message: Pick<ChatMessage, 'conversationId' | 'from'>): string {
  const kind = conversationKind(message.conversationId);
  if (kind === 'dm') return message.from;
  return kind === 'unverified' ? `${message.from}, unverified` : `${message.from} -> ${message.conversationId}`;
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
  /** Incoming only: came on a connection that could not prove the peer's pinned key (chatp2p-secure). */
  unverified?: boolean;
  /**
   * A DM answering the message of this msg_id. Between ChatP2P peers it crosses as `reply_to`
   * (chatp2p-receipts); the quoted line (`> who: text`) starts the text for every peer.
   */
  replyTo?: string;
}

export interface ConversationSummary {
  id: ConversationId;
  kind: ConversationKind;
  /** peer_id (the one claimed, for an unverified chat), `#namespace` or `*`. */
  title: string;
  unread: number;
  /** Our DMs here still waiting in the outbox (queued or sent, not yet acknowledged). */
  queued: number;
  last: { from: string; text: string; at: number } | undefined;
  /** Messages here raise desktop notifications (always for DMs, opt-in for channels). */
  notify: boolean;
  /** The seq of the oldest incoming message not yet seen: where the chat opens, under "New messages". */
  firstUnread: number | undefined;
  /** Text typed here and not sent yet, kept across chat switches and restarts. */
  draft: string | undefined;
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
  /** Why the engine is not running (bad port, port in use, ...). */
  error: ChatError | undefined;
  /** The embedded rendezvous server, when the profile uses "This computer". */
  localServer: { host: string; port: number } | undefined;
  /**
   * Our chatp2p-secure identity key: its fingerprint, and whether the OS keychain protects it at
   * rest (false: only the file's permissions do, as Settings says).
   */
  identity: { fingerprint: string; protectedAtRest: boolean } | undefined;
}

/** What `keys` answers: our own key's fingerprint and the keys pinned for peers. */
export interface KeyList {
  fingerprint: string | undefined;
  keys: PeerKeyView[];
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
  /** No notification from any chat while on. */
  doNotDisturb: boolean;
  /** A short sound with each notification. */
  sound: boolean;
  /** Chats that do not notify: until when (ms since the epoch), or until unmuted. */
  muted: Record<ConversationId, number | 'always'>;
  theme: Theme;
  language: Language;
  /**
   * Read receipts with ChatP2P peers (chatp2p-receipts): off, we send none and show none of
   * theirs, as in Signal. Never sent to other clients either way.
   */
  readReceipts: boolean;
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

export type MuteDuration = '1h' | '8h' | 'always' | 'off';
export const MUTE_DURATIONS: Record<Exclude<MuteDuration, 'always' | 'off'>, number> = { '1h': 3_600_000, '8h': 8 * 3_600_000 };

/** Whether the chat is muted at `now`. */
export function isMuted(muted: Settings['muted'] | undefined, id: ConversationId, now: number): boolean {
  const until = muted?.[id];
  return until === 'always' || (until !== undefined && until > now);
}

/**
 * Whether a message in this chat notifies (both hosts apply it): notifications on, no
 * do-not-disturb, the chat not muted, and a DM or a channel the user opted into.
 */
export function notifies(
  id: ConversationId,
  settings: Pick<Settings, 'notifications' | 'notifyChannels'> & Partial<Pick<Settings, 'doNotDisturb' | 'muted'>>,
  now: number,
): boolean {
  if (!settings.notifications || settings.doNotDisturb || isMuted(settings.muted, id, now)) return false;
  return conversationPeer(id) !== undefined || settings.notifyChannels.includes(id);
}

/** Everything but the profile, which changes only through `startProfile`. */
export type SettingsPatch = Partial<Omit<Settings, 'profile' | 'timers' | 'files'>> & { timers?: Partial<Timers>; files?: FileSettingsPatch };

/** `downloadDir: null` goes back to the system's Downloads folder (JSON carries no undefined); another folder comes only from `chooseDownloadFolder`. */
export type FileSettingsPatch = Partial<Omit<FileSettings, 'downloadDir'>> & { downloadDir?: string | null };

/** What the first-run form learns before it lets the user go: each problem, on its field. */
export interface ProfileCheck {
  /** Our port is taken or cannot be listened on. */
  port: ChatError | undefined;
  /** The rendezvous server does not answer, or not as a rendezvous server does. */
  rendezvous: ChatError | undefined;
}

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

/** Every command: its arguments and what it resolves to. A refusal rejects with a ChatError. */
export interface ChatCommands {
  getSnapshot: { args: []; result: Snapshot };
  /** Validates, saves and (re)starts the engine with this profile (BYE and UNREGISTER first). */
  startProfile: { args: [profile: Profile]; result: Snapshot };
  /** Tries the profile's port and asks its rendezvous server one DISCOVER, changing nothing. */
  checkProfile: { args: [profile: Profile]; result: ProfileCheck };
  updateSettings: { args: [patch: SettingsPatch]; result: Settings };
  /** `replyTo`: the msg_id of the message this answers (its quoted line is in `text`). */
  sendDirect: { args: [peerId: string, text: string, replyTo?: string]; result: ChatMessage };
  /** The user is typing in this chat: a ChatP2P peer of a DM sees "typing…" (sent at most every 3 s). */
  typing: { args: [conversationId: ConversationId]; result: void };
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
  /**
   * Marks incoming messages read: up to and including `upTo` (a seq that was on screen), or all of
   * them. A ChatP2P peer of a DM gets a read receipt for them, unless read receipts are off.
   */
  markRead: { args: [conversationId: ConversationId, upTo?: number]; result: void };
  /** Every conversation read at once. */
  markAllRead: { args: []; result: void };
  /** Keeps (or, with empty text, forgets) the conversation's unsent text in the profile. */
  setDraft: { args: [conversationId: ConversationId, text: string]; result: void };
  /** Removes one message from this computer's history (a waiting DM leaves the outbox first). */
  deleteMessage: { args: [conversationId: ConversationId, seq: number]; result: void };
  /** Sends a cancelled DM's text again as a new message, which takes its place in the history. */
  resend: { args: [msgId: string]; result: ChatMessage };
  /** The conversation on screen (undefined: none): its messages raise no notification. They count as read only once the UI says they were seen (markRead). */
  setActiveConversation: { args: [conversationId: ConversationId | undefined]; result: void };
  logs: { args: []; result: LogEvent[] };
  /** Mutes a chat's notifications for an hour, eight hours or until unmuted; `off` unmutes it. */
  mute: { args: [conversationId: ConversationId, duration: MuteDuration]; result: Settings };
  /** Opens an http(s) link in the system browser, after main's own check. */
  openLink: { args: [url: string]; result: void };
  /** The identity keys pinned for peers (chatp2p-secure): one peer's, or all. */
  keys: { args: [peerId?: string]; result: KeyList };
  /** Accepts the new key of a peer whose key changed: the DMs that waited for it go out. */
  acceptKey: { args: [peerId: string]; result: PeerKeyView };
  /** Marks a peer's safety number as compared with theirs (or takes that back). */
  verifyKey: { args: [peerId: string, verified: boolean]; result: PeerKeyView };
  /** Asks the user to pick the download folder (the host's own dialog: no path comes from the renderer); the service checks it can write there. */
  chooseDownloadFolder: { args: []; result: Settings };
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
  checkProfile: true,
  updateSettings: true,
  sendDirect: true,
  typing: true,
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
  markAllRead: true,
  setDraft: true,
  deleteMessage: true,
  resend: true,
  setActiveConversation: true,
  logs: true,
  mute: true,
  openLink: true,
  keys: true,
  acceptKey: true,
  verifyKey: true,
  chooseDownloadFolder: true,
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
  /** Our message's delivery state changed (`read`: the peer's ChatP2P client showed it). */
  delivery: ChatMessage;
  /** The peer of this DM started or stopped typing (it stops by itself a few seconds after the last key). */
  typing: { conversationId: ConversationId; typing: boolean };
  /** A message was deleted from this computer's history (or replaced by its resend). */
  'message-removed': { conversationId: ConversationId; seq: number };
  /** Unread counts, queued counts, previews or the conversation list changed (one deleted, too). */
  conversations: ConversationSummary[];
  settings: Settings;
  log: LogEvent;
  /** A peer's key was pinned, changed, accepted or verified. */
  keys: PeerKeyView;
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

export type CommandReply<T = unknown> = { ok: true; value: T } | { ok: false; error: ChatError };
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
