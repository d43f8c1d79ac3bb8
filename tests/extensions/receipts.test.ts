// chatp2p-receipts as a protocol module: switched on only by evidence, never written toward a
// peer without it, strict about what it accepts, and its timers (typing every 3 s at most,
// expiring) on an injected clock.

import { describe, expect, it } from 'vitest';
import {
  FEATURE_RECEIPTS,
  MAX_REFS,
  READ_TYPE,
  TYPING_EVERY_MS,
  TYPING_EXPIRES_MS,
  TypingIndicator,
  TypingThrottle,
  advance,
  mayUse,
  parseReceiptsFrame,
  readFrames,
  receiptsEnabled,
  replyFields,
  replyToOf,
  typingFrame,
} from '../../src-main/engine/extensions/receipts.ts';

const negotiated = new Set([FEATURE_RECEIPTS]);
const legacy = new Set<string>();
let ids = 0;
const newId = () => `r-${++ids}`;

describe('chatp2p-receipts', () => {
  it('is on only when the peer advertised it and the evidence holds (an echo is not evidence)', () => {
    expect(receiptsEnabled(true, true)).toBe(true);
    expect(receiptsEnabled(true, false)).toBe(false);
    expect(receiptsEnabled(false, true)).toBe(false);
    expect(mayUse(negotiated)).toBe(true);
    expect(mayUse(new Set(['chatp2p-pipeline']))).toBe(false);
  });

  it('adds reply_to only toward a peer that negotiated it', () => {
    expect(replyFields('m-1', negotiated)).toEqual({ reply_to: 'm-1' });
    expect(replyFields('m-1', legacy)).toEqual({});
    expect(replyFields(undefined, negotiated)).toEqual({});
    expect(replyToOf({ type: 'SEND', reply_to: 'm-1' })).toBe('m-1');
    expect(replyToOf({ type: 'SEND', reply_to: 7 })).toBeUndefined();
    expect(replyToOf({ type: 'SEND', reply_to: 'x'.repeat(129) })).toBeUndefined();
  });

  it('sends no read receipt when the user turned them off, and splits long lists', () => {
    expect(readFrames('ana@CIC', 'bob@CIC', ['m-1'], false, newId)).toEqual([]);
    const refs = Array.from({ length: MAX_REFS + 5 }, (_, i) => `m-${i}`);
    const frames = readFrames('ana@CIC', 'bob@CIC', refs, true, newId);
    expect(frames.map((f) => (f.refs as string[]).length)).toEqual([MAX_REFS, 5]);
    expect(frames[0]).toMatchObject({ type: READ_TYPE, src: 'ana@CIC', dst: 'bob@CIC', ttl: 1 });
    expect(new Set(frames.map((f) => f.msg_id)).size).toBe(2);
  });

  it('accepts its frames only from the connection they claim, and ignores every other type', () => {
    const read = readFrames('bob@CIC', 'ana@CIC', ['m-1', 'm-1', 'm-2'], true, newId)[0]!;
    expect(parseReceiptsFrame(read, 'bob@CIC')).toEqual({ kind: 'read', from: 'bob@CIC', refs: ['m-1', 'm-2'] });
    expect(parseReceiptsFrame(read, 'eve@CIC')).toBe('invalid');
    expect(parseReceiptsFrame(typingFrame({ msgId: 't-1', src: 'bob@CIC', dst: 'ana@CIC' }), 'bob@CIC')).toEqual({ kind: 'typing', from: 'bob@CIC' });
    for (const bad of [{ refs: [] }, { refs: 'm-1' }, { refs: [1] }, { refs: Array.from({ length: MAX_REFS + 1 }, (_, i) => `m-${i}`) }, { msg_id: '' }]) {
      expect(parseReceiptsFrame({ ...read, ...bad }, 'bob@CIC')).toBe('invalid');
    }
    expect(parseReceiptsFrame({ type: 'SEND', msg_id: 'm', src: 'bob@CIC' }, 'bob@CIC')).toBeUndefined();
  });

  it('says "typing…" at most every 3 s per chat, and again at once after a send', () => {
    const throttle = new TypingThrottle();
    expect(throttle.shouldSend('dm:bob@CIC', 0)).toBe(true);
    expect(throttle.shouldSend('dm:bob@CIC', TYPING_EVERY_MS - 1)).toBe(false);
    expect(throttle.shouldSend('dm:carol@CIC', 10)).toBe(true);
    expect(throttle.shouldSend('dm:bob@CIC', TYPING_EVERY_MS)).toBe(true);
    throttle.reset('dm:bob@CIC');
    expect(throttle.shouldSend('dm:bob@CIC', TYPING_EVERY_MS + 1)).toBe(true);
  });

  it('shows "typing…" until it expires or their message arrives', () => {
    const indicator = new TypingIndicator();
    indicator.typing('bob@CIC', 1000);
    indicator.typing('carol@CIC', 2000);
    expect(indicator.active(1000 + TYPING_EXPIRES_MS - 1)).toEqual(['bob@CIC', 'carol@CIC']);
    expect(indicator.active(1000 + TYPING_EXPIRES_MS)).toEqual(['carol@CIC']);
    indicator.stopped('carol@CIC');
    expect(indicator.active(2001)).toEqual([]);
  });

  it('moves delivery forward only: queued, sent, delivered, read', () => {
    expect(advance('queued', 'sent')).toBe('sent');
    expect(advance('sent', 'read')).toBe('read');
    expect(advance('read', 'delivered')).toBe('read');
    expect(advance('delivered', 'sent')).toBe('delivered');
  });
});
