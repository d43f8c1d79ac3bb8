// The `chatp2p-files` extension (PROTOCOL.md §5): files offered, accepted and sent as frames on
// the chat connection itself, so they are sealed with it when the session is secure, and chat
// frames interleave with the chunks. This module is the wire side (frames, their checks, names
// from the network); file-transfers.ts is the state machine.
//
//   FILE_OFFER  {file_id, name, size, media_type, sha256, expires_in}   sender → receiver
//   FILE_ACCEPT {file_id, offset}     receiver: send from this offset (0, or where it resumes)
//   FILE_DECLINE {file_id, reason?}   receiver
//   FILE_CHUNK  {file_id, offset, data (base64, at most CHUNK_BYTES)}   sender; on a sealed
//               connection its own SEALED_CHUNK box instead: this header line, then the raw bytes
//   FILE_ACK    {file_id, offset}     receiver: everything before offset is written and hashed
//   FILE_DONE   {file_id}             receiver: the SHA-256 matched, the file is in place
//   FILE_CANCEL {file_id, reason}     either side, at any time

import sanitize from 'sanitize-filename';

export const FEATURE_FILES = 'chatp2p-files';

/** Bytes of file per FILE_CHUNK: its base64 (30 040 characters) and envelope fit the 32 KiB line. */
export const CHUNK_BYTES = 22 * 1024;
const MAX_NAME_LENGTH = 1024;
/** The longest name we write, in UTF-8 bytes: room for " (999)" and ".part" under the usual 255. */
const MAX_NAME_BYTES = 200;

export type FileFrame =
  | { kind: 'FILE_OFFER'; fileId: string; name: string; size: number; mediaType: string; sha256: string; expiresIn: number | undefined }
  | { kind: 'FILE_ACCEPT'; fileId: string; offset: number }
  | { kind: 'FILE_DECLINE'; fileId: string; reason: string | undefined }
  | { kind: 'FILE_CHUNK'; fileId: string; offset: number; data: Buffer }
  | { kind: 'FILE_ACK'; fileId: string; offset: number }
  | { kind: 'FILE_DONE'; fileId: string }
  | { kind: 'FILE_CANCEL'; fileId: string; reason: string | undefined };

export const FILE_FRAMES: ReadonlySet<string> = new Set(['FILE_OFFER', 'FILE_ACCEPT', 'FILE_DECLINE', 'FILE_CHUNK', 'FILE_ACK', 'FILE_DONE', 'FILE_CANCEL']);

const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFileId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);
const reasonOf = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : undefined);

/** Checks a FILE_* frame (type already upper-cased); a string is what is wrong with it. */
export function parseFileFrame(type: string, m: Record<string, unknown>): FileFrame | string {
  const fileId = m.file_id;
  if (!isFileId(fileId)) return `${type} without a valid "file_id"`;
  switch (type) {
    case 'FILE_OFFER': {
      const { name, size, media_type: mediaType, sha256, expires_in: expiresIn } = m;
      if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) return 'FILE_OFFER without a valid "name"';
      if (!isOffset(size)) return 'FILE_OFFER without a valid "size"';
      if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return 'FILE_OFFER without a valid "sha256"';
      const type = typeof mediaType === 'string' && /^[\w.+-]{1,64}\/[\w.+-]{1,64}$/.test(mediaType) ? mediaType.toLowerCase() : 'application/octet-stream';
      return { kind: 'FILE_OFFER', fileId, name, size, mediaType: type, sha256, expiresIn: isOffset(expiresIn) ? expiresIn : undefined };
    }
    case 'FILE_ACCEPT':
    case 'FILE_ACK':
      if (!isOffset(m.offset)) return `${type} without a valid "offset"`;
      return { kind: type, fileId, offset: m.offset };
    case 'FILE_CHUNK':
      // The line limit bounds what this decodes; a chunk over CHUNK_BYTES ends its transfer.
      if (typeof m.data !== 'string') return 'FILE_CHUNK without "data"';
      return chunkFrame(fileId, m.offset, Buffer.from(m.data, 'base64'));
    case 'FILE_DONE':
      return { kind: 'FILE_DONE', fileId };
    case 'FILE_DECLINE':
    case 'FILE_CANCEL':
      return { kind: type, fileId, reason: reasonOf(m.reason) };
    default:
      return `unknown file frame ${type}`;
  }
}

function chunkFrame(fileId: string, offset: unknown, data: Buffer): FileFrame | string {
  if (!isOffset(offset)) return 'FILE_CHUNK without a valid "offset"';
  if (data.length === 0) return 'FILE_CHUNK without "data"';
  return { kind: 'FILE_CHUNK', fileId, offset, data };
}

/**
 * A FILE_CHUNK from a SEALED_CHUNK box (docs/SECURE.md): `head` is its header line, the JSON of
 * a FILE_CHUNK without `data`, and `data` the raw bytes after it.
 */
export function parseSealedChunk(head: string, data: Buffer): FileFrame | string {
  let m: unknown;
  try {
    m = JSON.parse(head);
  } catch {
    return 'a sealed FILE_CHUNK whose header is not JSON';
  }
  const fields = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
  if (fields.type !== 'FILE_CHUNK') return 'a SEALED_CHUNK box that is not a FILE_CHUNK';
  if (!isFileId(fields.file_id)) return 'FILE_CHUNK without a valid "file_id"';
  return chunkFrame(fields.file_id, fields.offset, data);
}

/** The header line of a FILE_CHUNK in a SEALED_CHUNK box (a checked `file_id` and a number: no escape needed). */
export function sealedChunkHead(fileId: string, offset: number): string {
  return `{"type":"FILE_CHUNK","file_id":"${fileId}","offset":${offset}}\n`;
}

const CHUNK_TAIL = '","ttl":1}\n';

/**
 * A FILE_CHUNK line, written straight into its bytes: the same JSON as `encodeFrame` would make
 * (every part is ASCII that needs no escape: a checked `file_id`, a number, base64), without
 * JSON.stringify scanning and copying 30 kB of base64 for each chunk of a file.
 */
export function encodeFileChunk(fileId: string, offset: number, data: Buffer): Buffer {
  const head = `{"type":"FILE_CHUNK","file_id":"${fileId}","offset":${offset},"data":"`;
  const base64 = data.toString('base64');
  const line = Buffer.allocUnsafe(head.length + base64.length + CHUNK_TAIL.length);
  let at = line.write(head, 0, 'latin1');
  at += line.write(base64, at, 'latin1');
  line.write(CHUNK_TAIL, at, 'latin1');
  return line;
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;

/**
 * A file name from the network, made safe to create inside a folder: no path separators, no
 * control characters, no `.`/`..`, no reserved Windows device name (kept readable as `_CON.txt`),
 * no trailing dots or spaces, and short enough for " (n)" and ".part".
 */
export function safeFileName(name: string): string {
  let clean = shorten(name.normalize('NFC').replace(/[\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim());
  // sanitize-filename would blank a reserved name: keep it readable instead.
  if (WINDOWS_RESERVED.test(clean)) clean = `_${clean}`;
  clean = sanitize(clean, { replacement: '_' }).replace(/^\.+/, '');
  if (WINDOWS_RESERVED.test(clean)) clean = `_${clean}`;
  return clean === '' || clean === '_' ? 'file' : clean;
}

/** At most MAX_NAME_BYTES of UTF-8, keeping a short extension. */
function shorten(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const base = [...name.slice(0, name.length - ext.length)];
  while (base.length > 0 && Buffer.byteLength(base.join('') + ext) > MAX_NAME_BYTES) base.pop();
  return base.join('') + ext;
}

/** `name`, `name (1)`, `name (2)` ... with the number before the extension ("notes (1).pdf"). */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}

/** "1.5 MB": sizes as the terminal and the UI show them. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
