// Arguments of every ChatApi command, checked before anything acts on them: they come from the
// renderer (or a browser tab), so type, length and allowed values are all verified here.

import {
  LIMITS,
  LOG_LEVELS,
  allowedExternalUrl,
  wireTextBytes,
  type ChatCommands,
  type ChatErrorCode,
  type CommandName,
  type ConversationId,
  type HistoryQuery,
} from '../../src-shared/chat-api.ts';
import { isValidPeerId } from '../engine/wire/messages.ts';
import { SettingsError, isChannelId, isConversationId, isObject, validatePatch, validateProfile } from './settings.ts';

type ArgumentErrorCode = Extract<ChatErrorCode, 'invalid-request' | 'invalid-profile' | 'message-too-long' | 'link-refused'>;

/** Refused arguments: the code for the UI, the message (its `detail`) says what is wrong. */
export class ArgumentError extends Error {
  readonly code: ArgumentErrorCode;

  constructor(message: string, code: ArgumentErrorCode = 'invalid-request') {
    super(message);
    this.code = code;
  }
}

const MAX_MSG_ID_CHARS = 128;
const MAX_URL_CHARS = 2048;

function peerId(value: unknown): string {
  if (!isValidPeerId(value) || !value.includes('@')) throw new ArgumentError('a peer is addressed as name@namespace');
  return value;
}

export function messageText(value: unknown): string {
  if (typeof value !== 'string') throw new ArgumentError('the message must be text');
  if (value.trim() === '') throw new ArgumentError('the message is empty');
  // Every character takes at least one byte, so a longer string is over without encoding it.
  if (value.length > LIMITS.maxTextBytes) throw new ArgumentError(`the message is too long: over ${LIMITS.maxTextBytes} bytes`, 'message-too-long');
  const bytes = wireTextBytes(value);
  if (bytes > LIMITS.maxTextBytes) throw new ArgumentError(`the message is too long: ${bytes} bytes, the limit is ${LIMITS.maxTextBytes}`, 'message-too-long');
  return value;
}

function fileId(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new ArgumentError('unknown file transfer');
  return value;
}

function conversationId(value: unknown): ConversationId {
  if (isConversationId(value)) return value;
  throw new ArgumentError('unknown conversation');
}

function seq(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new ArgumentError(`${name} must be a message's seq`);
  return value as number;
}

/** A draft may be empty (that clears it) but no longer than a message may be. */
function draftText(value: unknown): string {
  if (typeof value !== 'string') throw new ArgumentError('a draft is text');
  if (value.length > LIMITS.maxTextBytes || wireTextBytes(value) > LIMITS.maxTextBytes) throw new ArgumentError(`a draft is at most ${LIMITS.maxTextBytes} bytes, as a message`, 'message-too-long');
  return value;
}

function msgId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_MSG_ID_CHARS) throw new ArgumentError('unknown message');
  return value;
}

/** At most one of before/after/around, each a seq; limit from 1 to LIMITS.maxHistoryPage. */
function historyQuery(value: unknown): HistoryQuery {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ArgumentError('a history page is asked for with {before, after, around, limit}');
  const query: HistoryQuery = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'before' && key !== 'after' && key !== 'around' && key !== 'limit') throw new ArgumentError(`unknown history option ${JSON.stringify(key.slice(0, 40))}`);
    if (v === undefined) continue;
    const max = key === 'limit' ? LIMITS.maxHistoryPage : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(v) || (v as number) < (key === 'limit' ? 1 : 0) || (v as number) > max) {
      throw new ArgumentError(key === 'limit' ? `limit must be 1 to ${LIMITS.maxHistoryPage}` : `${key} must be a message's seq`);
    }
    query[key] = v as number;
  }
  if ([query.before, query.after, query.around].filter((v) => v !== undefined).length > 1) throw new ArgumentError('ask for messages before, after or around one message, not several');
  return query;
}

function searchText(value: unknown): string {
  if (typeof value !== 'string') throw new ArgumentError('search for text');
  if (value.length > LIMITS.maxSearchChars) throw new ArgumentError(`search for at most ${LIMITS.maxSearchChars} characters`);
  return value;
}

function settingsValue<T>(check: () => T, code: ArgumentErrorCode = 'invalid-request'): T {
  try {
    return check();
  } catch (err) {
    throw err instanceof SettingsError ? new ArgumentError(err.message, code) : err;
  }
}

type Checkers = { [K in CommandName]: (args: unknown[]) => ChatCommands[K]['args'] };

const none = (): [] => [];

const CHECKERS: Checkers = {
  getSnapshot: none,
  startProfile: ([profile]) => [settingsValue(() => validateProfile(profile), 'invalid-profile')],
  checkProfile: ([profile]) => [settingsValue(() => validateProfile(profile), 'invalid-profile')],
  updateSettings: ([patch]) => {
    const valid = settingsValue(() => validatePatch(patch));
    // A folder comes only from the host's own picker (chooseDownloadFolder); the renderer may only go back to Downloads.
    if (typeof valid.files?.downloadDir === 'string') throw new ArgumentError('the download folder is chosen with the folder picker (chooseDownloadFolder)');
    return [valid];
  },
  sendDirect: ([to, text, replyTo]) => [peerId(to), messageText(text), replyTo === undefined || replyTo === null ? undefined : msgId(replyTo)],
  typing: ([id]) => [conversationId(id)],
  publish: ([to, text]) => {
    if (!isChannelId(to)) throw new ArgumentError('publish to * or #namespace');
    return [to as ConversationId, messageText(text)];
  },
  retry: ([id]) => [msgId(id)],
  cancel: ([id]) => [msgId(id)],
  reconnect: ([id]) => [peerId(id)],
  discover: none,
  setLogLevel: ([level]) => {
    if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) throw new ArgumentError(`the log level must be one of ${LOG_LEVELS.join(', ')}`);
    return [level as (typeof LOG_LEVELS)[number]];
  },
  history: ([id, query]) => [conversationId(id), historyQuery(query)],
  search: ([text]) => [searchText(text)],
  exportConversation: ([id, format]) => {
    if (format !== 'text' && format !== 'json') throw new ArgumentError('export as text or json');
    return [conversationId(id), format];
  },
  deleteConversation: ([id]) => [conversationId(id)],
  markRead: ([id, upTo]) => [conversationId(id), upTo === undefined || upTo === null ? undefined : seq(upTo, 'upTo')],
  markAllRead: none,
  setDraft: ([id, text]) => [conversationId(id), draftText(text)],
  deleteMessage: ([id, at]) => [conversationId(id), seq(at, 'the message')],
  resend: ([id]) => [msgId(id)],
  setActiveConversation: ([id]) => [id === undefined || id === null ? undefined : conversationId(id)],
  logs: none,
  mute: ([id, duration]) => {
    if (duration !== '1h' && duration !== '8h' && duration !== 'always' && duration !== 'off') throw new ArgumentError('mute for 1h, 8h, always, or off');
    return [conversationId(id), duration];
  },
  openLink: ([url]) => {
    const allowed = typeof url === 'string' && url.length <= MAX_URL_CHARS ? allowedExternalUrl(url) : undefined;
    if (!allowed) throw new ArgumentError('only http and https links can be opened', 'link-refused');
    return [allowed];
  },
  keys: ([id]) => [id === undefined || id === null ? undefined : peerId(id)],
  acceptKey: ([id]) => [peerId(id)],
  verifyKey: ([id, verified]) => {
    if (typeof verified !== 'boolean') throw new ArgumentError('verified must be true or false');
    return [peerId(id), verified];
  },
  chooseDownloadFolder: none,
  attachFiles: ([id]) => [peerId(id)],
  beginUpload: ([id, name, size]) => {
    if (typeof name !== 'string' || name === '' || name.length > 1024) throw new ArgumentError('a file name is 1 to 1024 characters');
    if (!Number.isSafeInteger(size) || (size as number) < 0) throw new ArgumentError('a file size is a whole number of bytes');
    return [peerId(id), name, size as number];
  },
  uploadChunk: ([id, offset, data]) => {
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new ArgumentError('a chunk offset is a whole number of bytes');
    if (typeof data !== 'string' || data.length === 0 || data.length > Math.ceil(LIMITS.uploadChunkBytes / 3) * 4) throw new ArgumentError(`a chunk is 1 to ${LIMITS.uploadChunkBytes} bytes, in base64`);
    return [fileId(id), offset as number, data];
  },
  finishUpload: ([id]) => [fileId(id)],
  acceptFile: ([id]) => [fileId(id)],
  declineFile: ([id]) => [fileId(id)],
  cancelTransfer: ([id]) => [fileId(id)],
  transfers: none,
  fileSupport: ([id]) => [peerId(id)],
  openDownload: ([id]) => [fileId(id)],
  previewDownload: ([id]) => [fileId(id)],
  showDownload: ([id]) => [fileId(id)],
};

/** Checks a command's arguments; throws ArgumentError with the reason. */
export function checkArguments<K extends CommandName>(command: K, args: unknown[]): ChatCommands[K]['args'] {
  return CHECKERS[command](args) as ChatCommands[K]['args'];
}
