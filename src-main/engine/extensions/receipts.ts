// `chatp2p-receipts` (PROTOCOL.md §5, docs/RECEIPTS.md): read receipts, "typing…" and `reply_to`
// between ChatP2P peers. negotiation.ts decides per connection, from evidence an echo cannot fake,
// whether it is on; toward any other peer nothing of it is ever written (`mayUse` is the gate every
// frame and field of it passes). The frames ride the chat connection, so a secure session seals them:
//
//   {"type":"CHATP2P_READ","msg_id":<id>,"src":<us>,"dst":<them>,"refs":[<msg_id of theirs>, ...],"ttl":1}
//   {"type":"CHATP2P_TYPING","msg_id":<id>,"src":<us>,"dst":<them>,"ttl":1}
//   a SEND with "reply_to":<msg_id of the message answered>
//
// Delivery is queued → sent (written) → delivered (its ACK) → read (a CHATP2P_READ naming it): the
// router moves only a delivered DM to read, so a state never goes back.

export const FEATURE_RECEIPTS = 'chatp2p-receipts';
export const READ_TYPE = 'CHATP2P_READ';
export const TYPING_TYPE = 'CHATP2P_TYPING';
export const RECEIPT_FRAMES: ReadonlySet<string> = new Set([READ_TYPE, TYPING_TYPE]);

/** "typing…" goes at most this often while the user types. */
export const TYPING_EVERY_MS = 3_000;
/** A "typing…" not renewed within this long is over (the typist stopped, or left). */
export const TYPING_EXPIRES_MS = 6_000;
/** msg_ids one read receipt may name; more go in further frames. */
export const MAX_REFS = 100;
const MAX_ID_CHARS = 128;

/** Whether a frame or field of this extension may be written on a connection, given what it negotiated. */
export function mayUse(negotiated: ReadonlySet<string>): boolean {
  return negotiated.has(FEATURE_RECEIPTS);
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

export function typingFrame(e: { msgId: string; src: string; dst: string }): Record<string, unknown> {
  return { type: TYPING_TYPE, msg_id: e.msgId, src: e.src, dst: e.dst, ttl: 1 };
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_CHARS;

/** A frame of this extension, checked; `src` is compared with the connection's peer by the engine. */
export type ReceiptsFrame = { kind: 'read'; msgId: string; src: unknown; refs: string[] } | { kind: 'typing'; msgId: string; src: unknown };

/** Checks a CHATP2P_* frame (type already upper-cased); a string is what is wrong with it. */
export function parseReceiptsFrame(type: string, m: Record<string, unknown>): ReceiptsFrame | string {
  if (!isId(m.msg_id)) return `${type} without a valid "msg_id"`;
  if (type === TYPING_TYPE) return { kind: 'typing', msgId: m.msg_id, src: m.src };
  const refs = m.refs;
  if (!Array.isArray(refs) || refs.length === 0 || refs.length > MAX_REFS || !refs.every(isId)) return `${READ_TYPE} without 1 to ${MAX_REFS} msg_ids in "refs"`;
  return { kind: 'read', msgId: m.msg_id, src: m.src, refs: [...new Set(refs)] };
}

/** A SEND's `reply_to`, when it is a well-formed msg_id. */
export function replyToOf(frame: Record<string, unknown>): string | undefined {
  return isId(frame.reply_to) ? frame.reply_to : undefined;
}

/** Whether to send "typing…" now, per peer: the first key, then at most every TYPING_EVERY_MS. */
export class TypingThrottle {
  private readonly last = new Map<string, number>();

  shouldSend(peerId: string, now: number): boolean {
    const at = this.last.get(peerId);
    if (at !== undefined && now - at < TYPING_EVERY_MS) return false;
    this.last.set(peerId, now);
    return true;
  }

  /** After a send: the next key says "typing…" again at once. */
  reset(peerId: string): void {
    this.last.delete(peerId);
  }
}

/**
 * Who is typing to us: each until TYPING_EXPIRES_MS after their last frame, or their message.
 * `onChange` is told each start and each end, an expiry included (one timer per typist).
 */
export class TypingIndicator {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly onChange: (peerId: string, typing: boolean) => void;
  private readonly expiresMs: number;

  constructor(onChange: (peerId: string, typing: boolean) => void, expiresMs = TYPING_EXPIRES_MS) {
    this.onChange = onChange;
    this.expiresMs = expiresMs;
  }

  typing(peerId: string): void {
    const was = this.timers.get(peerId);
    clearTimeout(was);
    const timer = setTimeout(() => this.stopped(peerId), this.expiresMs);
    timer.unref();
    this.timers.set(peerId, timer);
    if (was === undefined) this.onChange(peerId, true);
  }

  /** Their message arrived, they left, or the indicator expired: no longer typing. */
  stopped(peerId: string): void {
    const timer = this.timers.get(peerId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(peerId);
    this.onChange(peerId, false);
  }

  active(): string[] {
    return [...this.timers.keys()];
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
