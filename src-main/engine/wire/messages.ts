// The peer-to-peer messages of PROTOCOL.md §3, parsed tolerantly (§4): unknown fields and types
// are ignored, `timestamp` is never required, `msg_id` is an opaque string, ACK/PONG/PING may
// lack `src`/`dst`. What cannot be acted on is an error the connection counts as a strike.

import { FILE_FRAMES, parseFileFrame, type FileFrame } from '../extensions/files.ts';
import { CHALLENGE_FIELD, PROOF_FIELD } from '../extensions/negotiation.ts';
import { RECEIPT_FRAMES, parseReceiptsFrame, replyToOf, type ReceiptsFrame } from '../extensions/receipts.ts';

// The extension's token, where the benchmarks that speak raw frames look for it.
export { FEATURE_PIPELINE } from '../extensions/pipeline.ts';

export const PROTOCOL_VERSION = '1.0';

/** Longest peer_id we accept: name and namespace are 1-64 characters each. */
const MAX_PEER_ID_LENGTH = 129;
const MAX_MSG_ID_LENGTH = 128;
const MAX_FEATURES = 32;

export type PeerMessage =
  | { type: 'HELLO'; peerId: string; version: string | undefined; features: string[]; challenge: string | undefined }
  | { type: 'HELLO_OK'; peerId: string | undefined; version: string | undefined; features: string[]; proof: string | undefined }
  | { type: 'HELLO_REJECT'; reason: string | undefined }
  | { type: 'PING'; msgId: string | undefined }
  | { type: 'PONG'; msgId: string | undefined }
  | { type: 'SEND'; msgId: string; src: string | undefined; dst: string | undefined; payload: string; requireAck: boolean; timestamp: unknown; replyTo: string | undefined }
  | { type: 'ACK'; msgId: string }
  | { type: 'PUB'; msgId: string | undefined; src: string | undefined; dst: string; payload: string; timestamp: unknown }
  | { type: 'BYE'; msgId: string | undefined; reason: string | undefined }
  | { type: 'BYE_OK'; msgId: string | undefined }
  /** A `chatp2p-files` frame, checked (extensions/files.ts). */
  | { type: 'FILE'; frame: FileFrame }
  /** A `chatp2p-receipts` frame, checked (extensions/receipts.ts). */
  | { type: 'RECEIPTS'; frame: ReceiptsFrame }
  | { type: 'UNKNOWN'; name: string };

export type ParseResult = { ok: true; message: PeerMessage } | { ok: false; error: string };

const fail = (error: string): ParseResult => ({ ok: false, error });

/** A peer_id as a HELLO may carry it: `name@namespace`, printable, bounded. */
export function isValidPeerId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    // A character is at most two UTF-16 units: anything longer is refused before it is walked
    // (the desktop app checks renderer arguments with this too, and those may be megabytes).
    value.length <= 2 * MAX_PEER_ID_LENGTH &&
    // Characters, as the rendezvous server counts them, not UTF-16 units.
    [...value].length <= MAX_PEER_ID_LENGTH &&
    !/[\u0000-\u001f\u007f]/.test(value)
  );
}

/** The namespace part of `name@namespace` (empty when there is none). */
export function namespaceOf(peerId: string): string {
  const at = peerId.lastIndexOf('@');
  return at === -1 ? '' : peerId.slice(at + 1);
}

export function nameOf(peerId: string): string {
  const at = peerId.lastIndexOf('@');
  return at === -1 ? peerId : peerId.slice(0, at);
}

function optionalString(value: unknown, max = MAX_PEER_ID_LENGTH): string | undefined {
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

/** `msg_id` is usually a UUID but not always; a number is read as its text. */
function msgIdOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_MSG_ID_LENGTH) return value;
  return undefined;
}

function featuresOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((f): f is string => typeof f === 'string' && f.length <= 64).slice(0, MAX_FEATURES);
}

/** A namespace PUB may come with `dst` `CIC` instead of `#CIC`. */
export function normalizePubDst(dst: string): string {
  return dst === '*' || dst.startsWith('#') ? dst : `#${dst}`;
}

export function parsePeerMessage(line: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail('invalid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const m = value as Record<string, unknown>;
  if (typeof m.type !== 'string') return fail('no "type"');
  const type = m.type.toUpperCase();
  const msgId = msgIdOf(m.msg_id);
  switch (type) {
    case 'HELLO':
      if (!isValidPeerId(m.peer_id)) return fail('HELLO without a valid "peer_id"');
      return {
        ok: true,
        message: { type, peerId: m.peer_id, version: optionalString(m.version), features: featuresOf(m.features), challenge: optionalString(m[CHALLENGE_FIELD], 64) },
      };
    case 'HELLO_OK':
      return {
        ok: true,
        message: {
          type,
          peerId: isValidPeerId(m.peer_id) ? m.peer_id : undefined,
          version: optionalString(m.version),
          features: featuresOf(m.features),
          proof: optionalString(m[PROOF_FIELD], 64),
        },
      };
    case 'HELLO_REJECT':
      return { ok: true, message: { type, reason: optionalString(m.reason ?? m.message, 200) } };
    case 'PING':
    case 'PONG':
      return { ok: true, message: { type, msgId } };
    case 'ACK':
      if (msgId === undefined) return fail('ACK without "msg_id"');
      return { ok: true, message: { type, msgId } };
    case 'SEND':
      if (msgId === undefined) return fail('SEND without "msg_id"');
      if (typeof m.payload !== 'string') return fail('SEND without a string "payload"');
      return {
        ok: true,
        message: {
          type,
          msgId,
          src: optionalString(m.src),
          dst: optionalString(m.dst),
          payload: m.payload,
          // A peer that asks for no ACK says so; when it does not say, an ACK is harmless.
          requireAck: m.require_ack !== false,
          timestamp: m.timestamp,
          // chatp2p-receipts: acted on only where that was negotiated (the router's check).
          replyTo: replyToOf(m),
        },
      };
    case 'PUB': {
      if (typeof m.payload !== 'string') return fail('PUB without a string "payload"');
      const dst = optionalString(m.dst);
      if (dst === undefined || dst === '' || dst === '#') return fail('PUB without a "dst"');
      return { ok: true, message: { type, msgId, src: optionalString(m.src), dst: normalizePubDst(dst), payload: m.payload, timestamp: m.timestamp } };
    }
    case 'BYE':
      return { ok: true, message: { type, msgId, reason: optionalString(m.reason, 200) } };
    case 'BYE_OK':
      return { ok: true, message: { type, msgId } };
    default: {
      if (RECEIPT_FRAMES.has(type)) {
        const frame = parseReceiptsFrame(type, m);
        return typeof frame === 'string' ? fail(frame) : { ok: true, message: { type: 'RECEIPTS', frame } };
      }
      if (!FILE_FRAMES.has(type)) return { ok: true, message: { type: 'UNKNOWN', name: type.slice(0, 32) } };
      const frame = parseFileFrame(type, m);
      return typeof frame === 'string' ? fail(frame) : { ok: true, message: { type: 'FILE', frame } };
    }
  }
}
