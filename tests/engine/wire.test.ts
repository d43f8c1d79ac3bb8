// The wire layer of PROTOCOL.md §3–§4 as a peer sees it: how bytes become lines, how lines become
// messages, and how the many `timestamp` spellings of real peers become instants.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameTooLargeError, LineReader, MAX_LINE_BYTES, encodeFrame } from '../../src-main/engine/wire/framing.ts';
import { nameOf, namespaceOf, parsePeerMessage, type PeerMessage } from '../../src-main/engine/wire/messages.ts';
import { parseTimestamp } from '../../src-main/engine/wire/timestamp.ts';

/** Feeds `chunks` to one reader; returns the lines (as text) and what each push returned. */
function feed(chunks: Buffer[], reader = new LineReader()): { lines: string[]; results: boolean[] } {
  const lines: string[] = [];
  const results = chunks.map((chunk) => reader.push(chunk, (line) => lines.push(line.toString('utf8'))));
  return { lines, results };
}

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('LineReader', () => {
  const messages = [
    { type: 'HELLO', peer_id: 'alice@CIC', version: '1.0', features: ['ack', 'metrics'] },
    { type: 'SEND', msg_id: 'm-1', src: 'alice@CIC', dst: 'bob@CIC', payload: 'olá, 世界 😀', require_ack: true, ttl: 1 },
    { type: 'PUB', msg_id: 'm-2', src: 'alice@CIC', dst: '*', payload: 'ção', require_ack: false, ttl: 1 },
  ];
  const expected = messages.map((m) => JSON.stringify(m));
  const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));

  it('reassembles frames split at every possible byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { lines, results } = feed([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(lines, `split at byte ${cut}`).toEqual(expected);
      expect(results).toEqual([true, true]);
    }
  });

  it('reassembles frames that arrive one byte per read', () => {
    const chunks = [...stream].map((b) => Buffer.from([b]));
    const { lines, results } = feed(chunks);
    expect(lines).toEqual(expected);
    expect(results.every((r) => r)).toBe(true);
  });

  it('delivers every frame of a read that holds many, in order', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ type: 'PING', msg_id: `p-${i}` }));
    const { lines } = feed([Buffer.concat(many.map((m) => encodeFrame(m)))]);
    expect(lines.map((l) => JSON.parse(l))).toEqual(many);
  });

  it('keeps a multi-byte UTF-8 character intact when a read ends inside it', () => {
    const frame = bytes('{"payload":"😀é"}\n');
    const emoji = frame.indexOf(0xf0);
    for (const cut of [emoji + 1, emoji + 2, emoji + 3, emoji + 5]) {
      expect(feed([frame.subarray(0, cut), frame.subarray(cut)]).lines).toEqual(['{"payload":"😀é"}']);
    }
  });

  it('delivers a line of exactly 32767 bytes plus its newline, whole or in pieces', () => {
    const body = Buffer.alloc(MAX_LINE_BYTES - 1, 'a');
    const line = Buffer.concat([body, bytes('\n')]);
    expect(line.length).toBe(32768);
    expect(feed([line])).toEqual({ lines: [body.toString()], results: [true] });
    // The body alone, still waiting for its newline, can still fit.
    expect(feed([body, bytes('\n')])).toEqual({ lines: [body.toString()], results: [true, true] });
    expect(feed([body.subarray(0, 10_000), body.subarray(10_000), bytes('\n{"type":"PING"}\n')])).toEqual({
      lines: [body.toString(), '{"type":"PING"}'],
      results: [true, true, true],
    });
  });

  it('rejects a line of 32768 bytes plus its newline', () => {
    const body = Buffer.alloc(MAX_LINE_BYTES, 'a');
    const { lines, results } = feed([Buffer.concat([body, bytes('\n')])]);
    expect(lines).toEqual([]);
    expect(results).toEqual([false]);
  });

  it('rejects a partial line as soon as it can no longer fit, before its newline arrives', () => {
    // 32768 bytes without a newline need 32769 with it.
    expect(feed([Buffer.alloc(MAX_LINE_BYTES, 'a')]).results).toEqual([false]);
    // The same, reached over several reads.
    expect(feed([Buffer.alloc(20_000, 'a'), Buffer.alloc(12_767, 'a'), bytes('a')]).results).toEqual([true, true, false]);
  });

  it('delivers the complete frames that came before an oversized line in the same read', () => {
    const { lines, results } = feed([Buffer.concat([bytes('{"type":"PING"}\n'), Buffer.alloc(MAX_LINE_BYTES + 10, 'a')])]);
    expect(lines).toEqual(['{"type":"PING"}']);
    expect(results).toEqual([false]);
  });

  it('starts each line afresh: many lines just under the limit in a row are all accepted', () => {
    const body = Buffer.alloc(MAX_LINE_BYTES - 1, 'b');
    const line = Buffer.concat([body, bytes('\n')]);
    const reader = new LineReader();
    // Cut mid-line so that a leftover would carry into the next line.
    const twice = Buffer.concat([line, line, line]);
    const { lines, results } = feed([twice.subarray(0, 40_000), twice.subarray(40_000)], reader);
    expect(results).toEqual([true, true]);
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l === body.toString())).toBe(true);
  });

  it('passes empty lines on as empty, without disturbing the frames around them', () => {
    const { lines, results } = feed([bytes('\n\n{"type":"PING"}\n'), bytes('\n'), bytes('{"type":"PONG"}\n\n')]);
    expect(lines).toEqual(['', '', '{"type":"PING"}', '', '{"type":"PONG"}', '']);
    expect(results).toEqual([true, true, true]);
  });

  it('holds back a trailing partial line until its newline arrives', () => {
    const reader = new LineReader();
    const first = feed([bytes('{"type":"PING"}\n{"type":"PO')], reader);
    expect(first.lines).toEqual(['{"type":"PING"}']);
    const second = feed([bytes('NG"}\n')], reader);
    expect(second.lines).toEqual(['{"type":"PONG"}']);
  });
});

describe('encodeFrame', () => {
  it('writes one UTF-8 JSON line ending in a newline', () => {
    const frame = encodeFrame({ type: 'SEND', payload: 'olá 😀' });
    expect(frame.toString('utf8')).toBe('{"type":"SEND","payload":"olá 😀"}\n');
    expect(frame.indexOf(0x0a)).toBe(frame.length - 1);
  });

  it('accepts a frame of exactly 32768 bytes with its newline and refuses one byte more', () => {
    // {"payload":"…"} is 14 bytes around the payload, plus the newline.
    const fits = encodeFrame({ payload: 'x'.repeat(MAX_LINE_BYTES - 15) });
    expect(fits.length).toBe(MAX_LINE_BYTES);
    expect(feed([fits]).results).toEqual([true]);

    let error: unknown;
    try {
      encodeFrame({ payload: 'x'.repeat(MAX_LINE_BYTES - 14) });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect((error as FrameTooLargeError).bytes).toBe(MAX_LINE_BYTES + 1);
  });

  it('counts bytes, not characters', () => {
    // 16384 two-byte characters are half the limit in characters but over it in bytes.
    expect(() => encodeFrame({ payload: 'é'.repeat(16_384) })).toThrow(FrameTooLargeError);
    expect(() => encodeFrame({ payload: 'é'.repeat(16_000) })).not.toThrow();
  });

  it('produces frames that the reader and parser turn back into the same message', () => {
    const sent = { type: 'SEND', msg_id: 'abc', src: 'a@CIC', dst: 'b@CIC', payload: 'line1\nline2 😀', require_ack: true, ttl: 1 };
    const { lines } = feed([encodeFrame(sent)]);
    expect(lines).toHaveLength(1);
    expect(parsePeerMessage(lines[0]!)).toEqual({
      ok: true,
      message: { type: 'SEND', msgId: 'abc', src: 'a@CIC', dst: 'b@CIC', payload: 'line1\nline2 😀', requireAck: true, timestamp: undefined },
    });
  });
});

describe('parsePeerMessage', () => {
  const ok = (line: string | object): PeerMessage => {
    const result = parsePeerMessage(typeof line === 'string' ? line : JSON.stringify(line));
    if (!result.ok) throw new Error(`expected ${JSON.stringify(line)} to parse, got: ${result.error}`);
    return result.message;
  };
  const error = (line: string | object): string => {
    const result = parsePeerMessage(typeof line === 'string' ? line : JSON.stringify(line));
    if (result.ok) throw new Error(`expected ${JSON.stringify(line)} to be an error, got ${JSON.stringify(result.message)}`);
    return result.error;
  };

  it('reports invalid JSON and JSON values that are not objects as errors', () => {
    for (const line of ['', '{', 'hello', '{"type":"PING"', "{'type': 'PING'}"]) expect(error(line)).toBeTruthy();
    for (const line of ['[]', '[{"type":"PING"}]', '42', 'null', '"PING"', 'true']) expect(error(line)).toBeTruthy();
  });

  it('reports a message without a string type as an error', () => {
    expect(error({ msg_id: '1' })).toBeTruthy();
    expect(error({ type: 5 })).toBeTruthy();
    expect(error({ type: null })).toBeTruthy();
  });

  it('reads the type case-insensitively', () => {
    expect(ok({ type: 'ping', msg_id: 'x' })).toEqual({ type: 'PING', msgId: 'x' });
    expect(ok({ type: 'Hello', peer_id: 'alice@CIC' })).toMatchObject({ type: 'HELLO', peerId: 'alice@CIC' });
    expect(ok({ type: 'bye_ok', msg_id: 'b' })).toEqual({ type: 'BYE_OK', msgId: 'b' });
  });

  it('tolerates a line that ends in \\r\\n', () => {
    expect(ok('{"type":"PONG","msg_id":"x"}\r')).toEqual({ type: 'PONG', msgId: 'x' });
  });

  it('knows HELLO_REJECT and reads its reason', () => {
    expect(ok({ type: 'HELLO_REJECT', reason: 'duplicate' })).toEqual({ type: 'HELLO_REJECT', reason: 'duplicate' });
    expect(ok({ type: 'HELLO_REJECT', message: 'already connected' })).toEqual({ type: 'HELLO_REJECT', reason: 'already connected' });
    expect(ok({ type: 'HELLO_REJECT' })).toEqual({ type: 'HELLO_REJECT', reason: undefined });
  });

  it('reads unknown types as UNKNOWN, not as errors', () => {
    expect(ok({ type: 'RELAY', msg_id: '1', payload: 'x' })).toEqual({ type: 'UNKNOWN', name: 'RELAY' });
    expect(ok({ type: 'relay' })).toEqual({ type: 'UNKNOWN', name: 'RELAY' });
    expect(ok({ type: '' })).toMatchObject({ type: 'UNKNOWN' });
  });

  it('ignores unknown fields', () => {
    expect(ok({ type: 'PING', msg_id: 'x', timestamp: '2024-01-01T00:00:00Z', ttl: 1, hops: 3, extra: { a: [1] } })).toEqual({
      type: 'PING',
      msgId: 'x',
    });
  });

  it('reads msg_id as an opaque string, a number as its text', () => {
    expect(ok({ type: 'ACK', msg_id: 42 })).toEqual({ type: 'ACK', msgId: '42' });
    expect(ok({ type: 'ACK', msg_id: 'msg-1700000000.123' })).toEqual({ type: 'ACK', msgId: 'msg-1700000000.123' });
    expect(ok({ type: 'SEND', msg_id: 7, payload: 'p' })).toMatchObject({ type: 'SEND', msgId: '7' });
  });

  it('accepts ACK, PING and PONG without src and dst', () => {
    expect(ok({ type: 'ACK', msg_id: 'a', timestamp: '2024-01-01T00:00:00Z' })).toEqual({ type: 'ACK', msgId: 'a' });
    expect(ok({ type: 'PING', msg_id: 'p' })).toEqual({ type: 'PING', msgId: 'p' });
    expect(ok({ type: 'PONG', msg_id: 'p' })).toEqual({ type: 'PONG', msgId: 'p' });
  });

  it('reports an ACK without msg_id as an error (there is nothing to match it to)', () => {
    expect(error({ type: 'ACK' })).toBeTruthy();
    expect(error({ type: 'ACK', msg_id: '' })).toBeTruthy();
  });

  it('reads a SEND, with require_ack false honoured and an ACK asked for otherwise', () => {
    const send = { type: 'SEND', msg_id: 'm1', src: 'alice@CIC', dst: 'bob@CIC', payload: 'hi', timestamp: 1700000000, ttl: 1 };
    expect(ok({ ...send, require_ack: true })).toEqual({
      type: 'SEND',
      msgId: 'm1',
      src: 'alice@CIC',
      dst: 'bob@CIC',
      payload: 'hi',
      requireAck: true,
      timestamp: 1700000000,
    });
    expect(ok({ ...send, require_ack: false })).toMatchObject({ requireAck: false });
    expect(ok(send)).toMatchObject({ requireAck: true });
    expect(ok({ ...send, payload: '' })).toMatchObject({ payload: '' });
  });

  it('reports a SEND without msg_id or without a string payload as an error', () => {
    expect(error({ type: 'SEND', src: 'a@CIC', dst: 'b@CIC', payload: 'hi' })).toBeTruthy();
    for (const payload of [undefined, null, 5, { text: 'hi' }, ['hi']]) {
      expect(error({ type: 'SEND', msg_id: 'm', src: 'a@CIC', dst: 'b@CIC', payload })).toBeTruthy();
    }
  });

  it('reads a PUB, adding the # a namespace dst sometimes lacks and keeping *', () => {
    const pub = { type: 'PUB', msg_id: 'p1', src: 'alice@CIC', payload: 'all', require_ack: false, ttl: 1 };
    expect(ok({ ...pub, dst: 'CIC' })).toEqual({ type: 'PUB', msgId: 'p1', src: 'alice@CIC', dst: '#CIC', payload: 'all', timestamp: undefined });
    expect(ok({ ...pub, dst: '#CIC' })).toMatchObject({ dst: '#CIC' });
    expect(ok({ ...pub, dst: '*' })).toMatchObject({ dst: '*' });
  });

  it('reports a PUB without a destination or a string payload as an error', () => {
    const pub = { type: 'PUB', msg_id: 'p1', src: 'alice@CIC', payload: 'all' };
    expect(error(pub)).toBeTruthy();
    expect(error({ ...pub, dst: '' })).toBeTruthy();
    expect(error({ ...pub, dst: '#' })).toBeTruthy();
    expect(error({ ...pub, dst: '*', payload: 3 })).toBeTruthy();
  });

  it('reads a HELLO and its features, dropping features that are not strings', () => {
    expect(ok({ type: 'HELLO', peer_id: 'alice@CIC', version: '1.0', features: ['ack', 'metrics', 3, null], ttl: 1 })).toEqual({
      type: 'HELLO',
      peerId: 'alice@CIC',
      version: '1.0',
      features: ['ack', 'metrics'],
      challenge: undefined,
    });
    expect(ok({ type: 'HELLO', peer_id: 'alice@CIC' })).toEqual({ type: 'HELLO', peerId: 'alice@CIC', version: undefined, features: [], challenge: undefined });
    expect(ok({ type: 'HELLO', peer_id: 'alice@CIC', features: 'ack' })).toMatchObject({ features: [] });
  });

  it('reports a HELLO without a usable peer_id as an error', () => {
    const longest = `${'n'.repeat(64)}@${'s'.repeat(64)}`;
    expect(ok({ type: 'HELLO', peer_id: longest })).toMatchObject({ peerId: longest });
    for (const peerId of [undefined, '', 5, 'ali\nce@CIC', 'alice@C\u0000IC', 'alice\u007f@CIC', `${longest}x`]) {
      expect(error({ type: 'HELLO', peer_id: peerId })).toBeTruthy();
    }
  });

  // Names are 1-64 characters as the rendezvous server counts them: 64 emoji are 128 UTF-16 units.
  it('accepts the HELLO of a peer whose legal name is 64 characters outside the BMP', () => {
    const peerId = `${'😀'.repeat(64)}@CIC`;
    expect(ok({ type: 'HELLO', peer_id: peerId })).toMatchObject({ type: 'HELLO', peerId });
  });

  it('reads a HELLO_OK even when its peer_id is unusable', () => {
    expect(ok({ type: 'HELLO_OK', peer_id: 'bob@CIC', version: '1.0', features: ['ack'] })).toEqual({
      type: 'HELLO_OK',
      peerId: 'bob@CIC',
      version: '1.0',
      features: ['ack'],
      proof: undefined,
    });
    expect(ok({ type: 'HELLO_OK' })).toEqual({ type: 'HELLO_OK', peerId: undefined, version: undefined, features: [], proof: undefined });
  });

  it('reads the challenge of a HELLO and the proof of a HELLO_OK (chatp2p extensions), bounded', () => {
    expect(ok({ type: 'HELLO', peer_id: 'alice@CIC', chatp2p_challenge: 'c1' })).toMatchObject({ challenge: 'c1' });
    expect(ok({ type: 'HELLO_OK', peer_id: 'bob@CIC', chatp2p_proof: 'p1' })).toMatchObject({ proof: 'p1' });
    expect(ok({ type: 'HELLO', peer_id: 'alice@CIC', chatp2p_challenge: 'c'.repeat(65) })).toMatchObject({ challenge: undefined });
    expect(ok({ type: 'HELLO_OK', chatp2p_proof: 7 })).toMatchObject({ proof: undefined });
  });

  it('reads BYE and BYE_OK with or without their optional fields', () => {
    expect(ok({ type: 'BYE', msg_id: 'b1', src: 'a@CIC', dst: 'b@CIC', reason: 'leaving' })).toEqual({ type: 'BYE', msgId: 'b1', reason: 'leaving' });
    expect(ok({ type: 'BYE' })).toEqual({ type: 'BYE', msgId: undefined, reason: undefined });
    expect(ok({ type: 'BYE_OK', msg_id: 'b1', src: 'b@CIC', dst: 'a@CIC' })).toEqual({ type: 'BYE_OK', msgId: 'b1' });
  });
});

describe('namespaceOf and nameOf', () => {
  it('split a peer_id at its last @', () => {
    expect(nameOf('alice@CIC')).toBe('alice');
    expect(namespaceOf('alice@CIC')).toBe('CIC');
    expect(nameOf('a@b@UnB')).toBe('a@b');
    expect(namespaceOf('a@b@UnB')).toBe('UnB');
  });

  it('treat a peer_id without @ as a name without namespace', () => {
    expect(nameOf('alice')).toBe('alice');
    expect(namespaceOf('alice')).toBe('');
  });
});

describe('parseTimestamp', () => {
  // A zone far from UTC, so that reading a naive time as UTC (or a zoned one as local) shows.
  let savedTz: string | undefined;
  beforeEach(() => {
    savedTz = process.env.TZ;
    process.env.TZ = 'America/Sao_Paulo';
  });
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  const instant = Date.UTC(2024, 0, 15, 10, 30, 45);

  it('reads ISO-8601 in UTC written with Z, +00:00 or +0000', () => {
    expect(parseTimestamp('2024-01-15T10:30:45Z')).toBe(instant);
    expect(parseTimestamp('2024-01-15T10:30:45.250Z')).toBe(instant + 250);
    expect(parseTimestamp('2024-01-15T10:30:45+00:00')).toBe(instant);
    expect(parseTimestamp('2024-01-15T10:30:45+0000')).toBe(instant);
  });

  it('reads other offsets in both spellings', () => {
    expect(parseTimestamp('2024-01-15T07:30:45-03:00')).toBe(instant);
    expect(parseTimestamp('2024-01-15T07:30:45-0300')).toBe(instant);
    expect(parseTimestamp('2024-01-15T16:00:45+05:30')).toBe(instant);
  });

  it("reads Python's isoformat() with microseconds, keeping the milliseconds", () => {
    expect(parseTimestamp('2024-01-15T10:30:45.123456+00:00')).toBe(instant + 123);
    expect(parseTimestamp('2024-01-15T10:30:45.123456Z')).toBe(instant + 123);
    expect(parseTimestamp('2024-01-15T10:30:45.123456+0000')).toBe(instant + 123);
  });

  it('reads a naive time without zone as local time', () => {
    const local = new Date(2024, 0, 15, 10, 30, 45).getTime();
    expect(local).not.toBe(instant); // the zone above is not UTC
    expect(parseTimestamp('2024-01-15T10:30:45')).toBe(local);
    // datetime.now().isoformat() and str(datetime.now())
    expect(parseTimestamp('2024-01-15T10:30:45.123456')).toBe(local + 123);
    expect(parseTimestamp('2024-01-15 10:30:45.123456')).toBe(local + 123);
    expect(parseTimestamp('2024-01-15 10:30:45')).toBe(local);
  });

  it('reads epoch numbers in seconds (integer or fraction) and in milliseconds', () => {
    expect(parseTimestamp(instant / 1000)).toBe(instant);
    expect(parseTimestamp(instant / 1000 + 0.5)).toBe(instant + 500);
    expect(parseTimestamp(instant)).toBe(instant);
  });

  it('reads epoch numbers sent as strings', () => {
    expect(parseTimestamp(String(instant / 1000))).toBe(instant);
    expect(parseTimestamp(`${instant / 1000}.25`)).toBe(instant + 250);
    expect(parseTimestamp(String(instant))).toBe(instant);
    expect(parseTimestamp(` ${instant / 1000} `)).toBe(instant);
  });

  // A Date holds at most 8.64e15 ms; a sentAt beyond it would make an Invalid Date downstream.
  it('answers undefined for numbers beyond any representable date', () => {
    expect(parseTimestamp(1e20)).toBeUndefined();
    expect(parseTimestamp('99999999999999999999')).toBeUndefined();
  });

  it('answers undefined for absent or unreadable values, and never throws', () => {
    const garbage: unknown[] = [
      undefined,
      null,
      '',
      '   ',
      'now',
      'yesterday at noon',
      '2024-13-45T99:99:99Z',
      '15/01/2024 10:30',
      'x'.repeat(10_000),
      '1'.repeat(400),
      NaN,
      Infinity,
      -1,
      0,
      true,
      {},
      [],
      [1700000000],
      { seconds: 1700000000 },
    ];
    for (const value of garbage) {
      let result: number | undefined;
      expect(() => (result = parseTimestamp(value)), String(value)).not.toThrow();
      expect(result, JSON.stringify(value) ?? String(value)).toBeUndefined();
    }
  });
});
