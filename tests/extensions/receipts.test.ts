// chatp2p-receipts as a protocol module: switched on only by evidence (the negotiation), strict
// about what it accepts, its typing throttle (3 s at most) and its expiry.

import { describe, expect, it } from 'vitest';
import { OUR_FEATURES, negotiate, newChallenge, proofOf } from '../../src-main/engine/extensions/negotiation.ts';
import {
  FEATURE_RECEIPTS,
  MAX_REFS,
  READ_TYPE,
  TYPING_EVERY_MS,
  TYPING_TYPE,
  TypingIndicator,
  TypingThrottle,
  mayUse,
  parseReceiptsFrame,
  readFrames,
  replyToOf,
  typingFrame,
} from '../../src-main/engine/extensions/receipts.ts';

let ids = 0;
const newId = () => `r-${++ids}`;

describe('chatp2p-receipts', () => {
  it('is on only where the negotiation saw the proof: an echo of our HELLO is not evidence', () => {
    const challenge = newChallenge();
    const proven = negotiate({ direction: 'outbound', challenge, features: [...OUR_FEATURES], proof: proofOf(challenge, OUR_FEATURES) });
    expect(mayUse(proven)).toBe(true);
    const echoed = negotiate({ direction: 'outbound', challenge, features: [...OUR_FEATURES], proof: undefined });
    expect(mayUse(echoed)).toBe(false);
    expect(mayUse(negotiate({ direction: 'inbound', features: ['ack', 'metrics'] }))).toBe(false);
    expect(mayUse(negotiate({ direction: 'inbound', features: [FEATURE_RECEIPTS] }))).toBe(true);
  });

  it('reads reply_to only when it is a well-formed msg_id', () => {
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

  it('accepts well-formed frames only, de-duplicating refs', () => {
    const read = readFrames('bob@CIC', 'ana@CIC', ['m-1', 'm-1', 'm-2'], true, newId)[0]!;
    expect(parseReceiptsFrame(READ_TYPE, read)).toEqual({ kind: 'read', msgId: read.msg_id, src: 'bob@CIC', refs: ['m-1', 'm-2'] });
    expect(parseReceiptsFrame(TYPING_TYPE, typingFrame({ msgId: 't-1', src: 'bob@CIC', dst: 'ana@CIC' }))).toEqual({ kind: 'typing', msgId: 't-1', src: 'bob@CIC' });
    for (const bad of [{ refs: [] }, { refs: 'm-1' }, { refs: [1] }, { refs: Array.from({ length: MAX_REFS + 1 }, (_, i) => `m-${i}`) }, { msg_id: '' }]) {
      expect(parseReceiptsFrame(READ_TYPE, { ...read, ...bad })).toBeTypeOf('string');
    }
    expect(parseReceiptsFrame(TYPING_TYPE, { type: TYPING_TYPE, msg_id: 7 })).toBeTypeOf('string');
  });

  it('says "typing…" at most every 3 s per peer, and again at once after a send', () => {
    const throttle = new TypingThrottle();
    expect(throttle.shouldSend('bob@CIC', 0)).toBe(true);
    expect(throttle.shouldSend('bob@CIC', TYPING_EVERY_MS - 1)).toBe(false);
    expect(throttle.shouldSend('carol@CIC', 10)).toBe(true);
    expect(throttle.shouldSend('bob@CIC', TYPING_EVERY_MS)).toBe(true);
    throttle.reset('bob@CIC');
    expect(throttle.shouldSend('bob@CIC', TYPING_EVERY_MS + 1)).toBe(true);
  });

  it('shows "typing…" once per start, until it expires or their message arrives', async () => {
    const changes: string[] = [];
    const indicator = new TypingIndicator((peerId, typing) => changes.push(`${peerId} ${typing}`), 100);
    indicator.typing('bob@CIC');
    indicator.typing('bob@CIC');
    indicator.typing('carol@CIC');
    expect(indicator.active()).toEqual(['bob@CIC', 'carol@CIC']);
    indicator.stopped('carol@CIC');
    await new Promise((r) => setTimeout(r, 200));
    expect(changes).toEqual(['bob@CIC true', 'carol@CIC true', 'carol@CIC false', 'bob@CIC false']);
    expect(indicator.active()).toEqual([]);
    indicator.close();
  });
});
