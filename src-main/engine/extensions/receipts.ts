// `chatp2p-receipts` (PROTOCOL.md §5): read receipts, "typing…" and `reply_to` between ChatP2P
// peers. Everything here is for a connection where the extension was negotiated on evidence an
// echo cannot fake; toward any other peer nothing of it is ever written (`mayUse` is the gate
// every frame of it passes). The frames:
//
//   {"type":"CHATP2P_READ","msg_id":<id>,"src":<us>,"dst":<them>,"refs":[<msg_id of theirs>, ...],"ttl":1}
//   {"type":"CHATP2P_TYPING","msg_id":<id>,"src":<us>,"dst":<them>,"ttl":1}
//   a SEND with "reply_to":<msg_id of the message answered>
//
// Delivery is queued → sent (written) → delivered (its ACK) → read (a CHATP2P_READ naming it).

export const FEATURE_RECEIPTS = 'chatp2p-receipts';
export const READ_TYPE = 'CHATP2P_READ';
export const TYPING_TYPE = 'CHATP2P_TYPING';

/** "typing…" goes at most this often while the user types. */
export const TYPING_EVERY_MS = 3_000;
/** A "typing…" not renewed within this long is over (the typist stopped, or left). */
export const TYPING_EXPIRES_MS = 6_000;
/** msg_ids one read receipt may name; more go in further frames. */
export const MAX_REFS = 100;
const MAX_ID_CHARS = 128;

/**
 * The one decision the negotiation (engine/extensions/negotiation.ts) makes for this extension:
 * the peer advertised the token, and the evidence for that token holds (an echo is no evidence).
 */
export function receiptsEnabled(peerAdvertised: boolean, evidenceOk: boolean): boolean {
  return peerAdvertised && evidenceOk;
}

/** Whether a frame of this extension may be written on a connection, given what it negotiated. */
export function mayUse(negotiated: ReadonlySet<string>): boolean {
  return negotiated.has(FEATURE_RECEIPTS);
}

export type DeliveryStep = 'queued' | 'sent' | 'delivered' | 'read';
const ORDER: Record<DeliveryStep, number> = { queued: 0, sent: 1, delivered: 2, read: 3 };

/** States only move forward: a late ACK after a read receipt leaves the message read. */
export function advance(current: DeliveryStep, next: DeliveryStep): DeliveryStep {
  return ORDER[next] > ORDER[current] ? next : current;
}

interface Envelope {
  msgId: string;
  src: string;
  dst: string;
}

/**
 * Read receipts for the peer's messages we have shown, in frames of at most MAX_REFS msg_ids.
 * None at all when the user turned read receipts off (as in Signal, they then see none either).
 */
export function readFrames(src: string, dst: string, refs: string[], sendReceipts: boolean, newMsgId: () => string): Record<string, unknown>[] {
  if (!sendReceipts) return [];
  const frames: Record<string, unknown>[] = [];
  for (let i = 0; i < refs.length; i += MAX_REFS) frames.push({ type: READ_TYPE, msg_id: newMsgId(), src, dst, refs: refs.slice(i, i + MAX_REFS), ttl: 1 });
  return frames;
}

export function typingFrame(e: Envelope): Record<string, unknown> {
  return { type: TYPING_TYPE, msg_id: e.msgId, src: e.src, dst: e.dst, ttl: 1 };
}

/** A SEND's extra field for a reply; nothing toward a peer without the extension (the quote is in the text). */
export function replyFields(replyTo: string | undefined, negotiated: ReadonlySet<string>): { reply_to?: string } {
  return replyTo !== undefined && mayUse(negotiated) ? { reply_to: replyTo } : {};
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_CHARS;

export type ReceiptsEvent = { kind: 'read'; from: string; refs: string[] } | { kind: 'typing'; from: string };

/**
 * A frame of this extension from `peerId`'s connection, checked: undefined when it is not one;
 * `invalid` (log it, count a strike) when it is malformed or claims another sender. Frames from
 * a connection that did not negotiate the extension, and read receipts while the user has them
 * off, are dropped by the caller before this.
 */
export function parseReceiptsFrame(frame: Record<string, unknown>, peerId: string): ReceiptsEvent | 'invalid' | undefined {
  if (frame.type !== READ_TYPE && frame.type !== TYPING_TYPE) return undefined;
  if (!isId(frame.msg_id) || frame.src !== peerId) return 'invalid';
  if (frame.type === TYPING_TYPE) return { kind: 'typing', from: peerId };
  const refs = frame.refs;
  if (!Array.isArray(refs) || refs.length === 0 || refs.length > MAX_REFS || !refs.every(isId)) return 'invalid';
  return { kind: 'read', from: peerId, refs: [...new Set(refs)] };
}

/** A SEND's `reply_to`, when it is a well-formed msg_id. */
export function replyToOf(frame: Record<string, unknown>): string | undefined {
  return isId(frame.reply_to) ? frame.reply_to : undefined;
}

/** Whether to send "typing…" now, per conversation: the first key, then at most every TYPING_EVERY_MS. */
export class TypingThrottle {
  private readonly last = new Map<string, number>();

  shouldSend(conversation: string, now: number): boolean {
    const at = this.last.get(conversation);
    if (at !== undefined && now - at < TYPING_EVERY_MS) return false;
    this.last.set(conversation, now);
    return true;
  }

  /** After a send: the next key says "typing…" again at once. */
  reset(conversation: string): void {
    this.last.delete(conversation);
  }
}

/** Who is typing to us: each until TYPING_EXPIRES_MS after their last frame, or their message. */
export class TypingIndicator {
  private readonly until = new Map<string, number>();

  typing(peerId: string, now: number): void {
    this.until.set(peerId, now + TYPING_EXPIRES_MS);
  }

  /** Their message arrived (or they left): no longer typing. */
  stopped(peerId: string): void {
    this.until.delete(peerId);
  }

  active(now: number): string[] {
    for (const [peerId, until] of this.until) if (until <= now) this.until.delete(peerId);
    return [...this.until.keys()];
  }
}
