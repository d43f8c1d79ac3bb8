// Property-based fuzzing (fast-check) of everything that reads untrusted bytes: the frame reader,
// the peer message parser, a running engine's connection, and the rendezvous request handler.
// Arbitrary byte splits, random and mutated frames, invalid UTF-8, deep and huge JSON, wrong types
// in every field: nothing throws past the connection, and valid frames around bad ones still count.
// The example-based cases these generalise are in tests/engine/wire.test.ts.

import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineReader, MAX_LINE_BYTES, encodeFrame } from '../../src-main/engine/wire/framing.ts';
import { FEATURE_PIPELINE, isValidPeerId, parsePeerMessage, type PeerMessage } from '../../src-main/engine/wire/messages.ts';
import { handleRequest } from '../../src-main/rendezvous-server/handler.ts';
import { pyJsonLoads } from '../../src-main/rendezvous-server/python-compat.ts';
import { SqliteBackend } from '../../src-main/rendezvous-server/sqlite-backend.ts';
import { startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

const NL = 0x0a;

/** A JSON value of any shape, including ones nested a few levels deep. */
const json = fc.jsonValue({ maxDepth: 4 });
/** Text with any code point, plus lone surrogate halves (which UTF-8 cannot carry). */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('\ud800', 'a\udfffb', '\u0000', '\u2028', '\n', '\r\n'));
/** Bytes of one line that is not a frame: anything but a newline, invalid UTF-8 included. */
const garbageLine = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b.map((x) => (x === NL ? 0x20 : x))));

/** Cuts a buffer at the given positions (taken modulo its length), in order. */
function split(buffer: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buffer.length === 0 ? 0 : c % buffer.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(buffer.subarray(from, p));
    from = p;
  }
  chunks.push(buffer.subarray(from));
  return chunks;
}

/** Feeds chunks to one reader until it refuses a line; returns the lines and whether it refused. */
function read(chunks: Buffer[]): { lines: Buffer[]; refused: boolean } {
  const reader = new LineReader();
  const lines: Buffer[] = [];
  for (const chunk of chunks) {
    if (!reader.push(chunk, (line) => lines.push(Buffer.from(line)))) return { lines, refused: true };
  }
  return { lines, refused: false };
}

/** What the rest of the engine relies on in a parsed message, whatever the input was. */
function expectWellFormed(m: PeerMessage): void {
  const optionalId = (v: string | undefined) => v === undefined || (typeof v === 'string' && v.length <= 129);
  const msgId = (v: string | undefined) => v === undefined || (typeof v === 'string' && v.length >= 1 && v.length <= 128);
  switch (m.type) {
    case 'HELLO':
    case 'HELLO_OK':
      if (m.type === 'HELLO' || m.peerId !== undefined) expect(isValidPeerId(m.peerId)).toBe(true);
      expect(m.features.length).toBeLessThanOrEqual(32);
      expect(m.features.every((f) => typeof f === 'string' && f.length <= 64)).toBe(true);
      expect(optionalId(m.version)).toBe(true);
      return;
    case 'SEND':
      expect(msgId(m.msgId) && m.msgId !== undefined).toBe(true);
      expect(typeof m.payload).toBe('string');
      expect(typeof m.requireAck).toBe('boolean');
      expect(optionalId(m.src) && optionalId(m.dst)).toBe(true);
      return;
    case 'PUB':
      expect(typeof m.payload).toBe('string');
      expect(m.dst === '*' || (m.dst.startsWith('#') && m.dst.length > 1)).toBe(true);
      expect(msgId(m.msgId) && optionalId(m.src)).toBe(true);
      return;
    case 'ACK':
      expect(msgId(m.msgId) && m.msgId !== undefined).toBe(true);
      return;
    case 'PING':
    case 'PONG':
    case 'BYE_OK':
      expect(msgId(m.msgId)).toBe(true);
      return;
    case 'BYE':
    case 'HELLO_REJECT':
      expect(m.reason === undefined || m.reason.length <= 200).toBe(true);
      return;
    case 'UNKNOWN':
      expect(m.name.length).toBeLessThanOrEqual(32);
      return;
  }
}

/** Parses, never letting an exception out; checks the result's shape. */
function parseChecked(text: string): ReturnType<typeof parsePeerMessage> {
  const result = parsePeerMessage(text);
  if (result.ok) expectWellFormed(result.message);
  else expect(typeof result.error).toBe('string');
  return result;
}

/** One valid frame of each type, as a course client would send it. */
const VALID: Record<string, unknown>[] = [
  { type: 'HELLO', peer_id: 'bob@CIC', version: '1.0', features: ['ack', 'metrics'], ttl: 1 },
  { type: 'HELLO_OK', peer_id: 'bob@CIC', version: '1.0', features: ['ack'], ttl: 1 },
  { type: 'PING', msg_id: 'p-1', timestamp: '2026-11-24T12:00:00Z', ttl: 1 },
  { type: 'PONG', msg_id: 'p-1', timestamp: '2026-11-24T12:00:00Z', ttl: 1 },
  { type: 'SEND', msg_id: 'm-1', src: 'bob@CIC', dst: 'alice@CIC', payload: 'oi', require_ack: true, ttl: 1 },
  { type: 'ACK', msg_id: 'm-1', timestamp: '2026-11-24T12:00:00Z', ttl: 1 },
  { type: 'PUB', msg_id: 'm-2', src: 'bob@CIC', dst: '#CIC', payload: 'todos', require_ack: false, ttl: 1 },
  { type: 'BYE', msg_id: 'b-1', src: 'bob@CIC', dst: 'alice@CIC', reason: 'tchau', ttl: 1 },
  { type: 'BYE_OK', msg_id: 'b-1', src: 'alice@CIC', dst: 'bob@CIC', ttl: 1 },
];

describe('LineReader under arbitrary input', () => {
  it('returns exactly the lines that were sent, whatever they hold and however the stream is split', () => {
    const line = fc.oneof(
      garbageLine,
      fc.constantFrom(...VALID).map((f) => encodeFrame(f).subarray(0, -1)),
      fc.constant(Buffer.alloc(0)),
      // Long lines, up to the last byte the limit allows.
      fc.integer({ min: MAX_LINE_BYTES - 40, max: MAX_LINE_BYTES - 1 }).map((n) => Buffer.alloc(n, 'y')),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (lines, cuts) => {
        const stream = Buffer.concat(lines.flatMap((l) => [l, Buffer.from([NL])]));
        const got = read(split(stream, cuts));
        expect(got.refused).toBe(false);
        expect(got.lines.map((l) => l.toString('hex'))).toEqual(lines.map((l) => l.toString('hex')));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a line over the limit, having delivered every line before it and none after', () => {
    fc.assert(
      fc.property(
        fc.array(garbageLine, { maxLength: 5 }),
        fc.integer({ min: MAX_LINE_BYTES, max: 3 * MAX_LINE_BYTES }),
        fc.boolean(),
        fc.array(garbageLine, { maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (before, oversize, withNewline, after, cuts) => {
          const stream = Buffer.concat([
            ...before.flatMap((l) => [l, Buffer.from([NL])]),
            Buffer.alloc(oversize, 'z'),
            ...(withNewline ? [Buffer.from([NL]), ...after.flatMap((l) => [l, Buffer.from([NL])])] : []),
          ]);
          const got = read(split(stream, cuts));
          expect(got.refused).toBe(true);
          expect(got.lines.map((l) => l.toString('hex'))).toEqual(before.map((l) => l.toString('hex')));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never buffers more than one line: a line that never ends is refused at the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const reader = new LineReader();
        let fed = 0;
        for (const size of sizes) {
          const ok = reader.push(Buffer.alloc(size, 'x'), () => expect.unreachable('no newline was sent'));
          fed += size;
          // Accepted only while the line, with the newline it still needs, fits the limit.
          expect(ok).toBe(fed + 1 <= MAX_LINE_BYTES);
          if (!ok) return;
        }
      }),
    );
  });
});

describe('parsePeerMessage under arbitrary input', () => {
  it('never throws on any text, and what it accepts has the shape the engine relies on', () => {
    fc.assert(fc.property(anyText, (text) => void parseChecked(text)), { numRuns: 300 });
  });

  it('never throws on any JSON value', () => {
    fc.assert(fc.property(json, (value) => void parseChecked(JSON.stringify(value) ?? 'null')), { numRuns: 300 });
  });

  it('never throws on bytes that are not UTF-8, decoded as a connection decodes them', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void parseChecked(Buffer.from(bytes).toString('utf8'))), { numRuns: 300 });
  });

  it('survives a wrong type in every field of every message type', () => {
    const cases = VALID.flatMap((frame) => Object.keys(frame).map((field) => [frame, field] as const));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.oneof(json, anyText, fc.constant(undefined)), ([frame, field], value) => {
        const mutated = { ...frame, [field]: value };
        parseChecked(JSON.stringify(mutated));
      }),
      { numRuns: 500 },
    );
  });

  it('survives mutated frames: cut short, bytes changed, type in another case, unknown fields added', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('case' as const), lower: fc.boolean() }),
      fc.record({ kind: fc.constant('extra' as const), key: fc.string({ maxLength: 10 }), value: json }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, mutations) => {
        let value: Record<string, unknown> = { ...frame };
        let bytes = encodeFrame(value).subarray(0, -1);
        for (const m of mutations) {
          if (m.kind === 'case') value = { ...value, type: m.lower ? String(value.type).toLowerCase() : String(value.type) };
          if (m.kind === 'extra') value = { ...value, [m.key]: m.value };
          bytes = Buffer.from(JSON.stringify(value));
          if (m.kind === 'truncate') bytes = bytes.subarray(0, m.at % (bytes.length + 1));
          if (m.kind === 'flip' && bytes.length > 0) {
            bytes = Buffer.from(bytes);
            bytes[m.at % bytes.length] = m.byte;
          }
        }
        parseChecked(bytes.toString('utf8'));
      }),
      { numRuns: 500 },
    );
  });

  it('survives deep and huge JSON that fits in one line', () => {
    const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    for (const depth of [100, 1000, 5000, 16_000]) {
      for (const nested of [deepArray(depth), deepObject(Math.floor(depth / 2))]) {
        expect(parseChecked(nested).ok).toBe(false);
        for (const field of ['payload', 'msg_id', 'src', 'dst', 'features', 'peer_id', 'type']) {
          const line = `{"type":"SEND","msg_id":"m","payload":"p","peer_id":"a@b","${field}":${nested}}`;
          if (Buffer.byteLength(line) < MAX_LINE_BYTES) parseChecked(line);
        }
      }
    }
    const wide = JSON.stringify({ type: 'HELLO', peer_id: 'bob@CIC', features: Array.from({ length: 5000 }, (_, i) => `f${i}`) });
    const hello = parseChecked(wide);
    expect(hello.ok && hello.message.type === 'HELLO' && hello.message.features.length).toBe(32);
    const big = parseChecked(JSON.stringify({ type: 'SEND', msg_id: 'm', payload: 'é'.repeat(16_000) }));
    expect(big.ok && big.message.type === 'SEND' && big.message.payload.length).toBe(16_000);
  });

  it('gives back what encodeFrame wrote, for any payload and msg_id, however the bytes are split', () => {
    fc.assert(
      fc.property(anyText, fc.string({ minLength: 1, maxLength: 128 }), fc.array(fc.nat(), { maxLength: 8 }), (payload, msgId, cuts) => {
        const frame = encodeFrame({ type: 'SEND', msg_id: msgId, src: 'a@CIC', dst: 'b@CIC', payload, require_ack: true, ttl: 1 });
        const { lines } = read(split(frame, cuts));
        expect(lines).toHaveLength(1);
        const parsed = parseChecked(lines[0]!.toString('utf8'));
        expect(parsed).toMatchObject({ ok: true, message: { type: 'SEND', msgId, payload } });
      }),
      { numRuns: 300 },
    );
  });
});

describe('a running engine fed arbitrary bytes', () => {
  let rdv: TestServer;
  let t: TestEngine;
  beforeAll(async () => {
    rdv = await startTestServer();
    // Enough strikes that garbage never ends the connection: here we check what gets through.
    t = await startEngine(rdv.port, 'alice', 'CIC', { network: { maxStrikes: 1_000_000 }, logging: { level: 'ERROR' } });
  });
  afterAll(async () => {
    await stopEngines();
    await rdv.close();
  });

  /** Frames that are not messages, or are messages that change nothing on an open connection. */
  const harmless = fc.oneof(
    garbageLine,
    json.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.constantFrom(
      '{"type":"SEND"}',
      '{"type":"SEND","msg_id":"x","payload":42}',
      '{"type":"PUB","payload":"x","dst":""}',
      '{"type":"ACK"}',
      '{"type":"ACK","msg_id":"nothing-in-flight"}',
      '{"type":"PONG","msg_id":"not-ours"}',
      '{"type":"RELAY","msg_id":"r","anything":[1,2]}',
      '{"type":"HELLO","peer_id":"eve@CIC"}',
      '{"type":"BYE_OK"}',
      '{"type":"PING","msg_id":"p"}',
      '   ',
      '',
    ).map((s) => Buffer.from(s)),
  );
  type Item = { kind: 'junk'; bytes: Buffer } | { kind: 'send' | 'pub'; payload: string };
  const item: fc.Arbitrary<Item> = fc.oneof(
    harmless.map((bytes) => ({ kind: 'junk' as const, bytes })),
    fc.record({ kind: fc.constantFrom('send' as const, 'pub' as const), payload: fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }) }),
  );

  function dialAs(peerId: string): Promise<{ socket: Socket; lines: Record<string, unknown>[] }> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: t.engine.status().listen.port });
      const lines: Record<string, unknown>[] = [];
      let rest = '';
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString('utf8')).split('\n');
        rest = parts.pop()!;
        for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
        if (lines.some((l) => l.type === 'HELLO_OK')) resolve({ socket, lines });
      });
      socket.on('connect', () => socket.write(JSON.stringify({ type: 'HELLO', peer_id: peerId, version: '1.0', features: ['ack', FEATURE_PIPELINE] }) + '\n'));
    });
  }

  it('delivers every valid SEND and PUB among bad frames, in order, however the bytes are split', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 25 }), fc.array(fc.nat(), { maxLength: 10 }), async (items, cuts) => {
        const peerId = `fuzz${++run}@CIC`;
        const { socket, lines } = await dialAs(peerId);
        const frames: Buffer[] = [];
        const expected: string[] = [];
        items.forEach((it, i) => {
          if (it.kind === 'junk') frames.push(it.bytes);
          else {
            const type = it.kind === 'send' ? 'SEND' : 'PUB';
            const dst = it.kind === 'send' ? 'alice@CIC' : '#CIC';
            frames.push(encodeFrame({ type, msg_id: `${peerId}-${i}`, src: peerId, dst, payload: it.payload, require_ack: it.kind === 'send', ttl: 1 }).subarray(0, -1));
            expected.push(it.payload);
          }
        });
        // A last SEND whose ACK says every frame before it has been read.
        frames.push(Buffer.from(JSON.stringify({ type: 'SEND', msg_id: `${peerId}-end`, src: peerId, dst: 'alice@CIC', payload: 'end', require_ack: true })));
        expected.push('end');
        for (const chunk of split(Buffer.concat(frames.flatMap((f) => [f, Buffer.from([NL])])), cuts)) {
          socket.write(chunk);
          await new Promise((r) => setImmediate(r));
        }
        await waitFor('the last ACK', () => lines.some((l) => l.type === 'ACK' && l.msg_id === `${peerId}-end`));
        socket.destroy();
        expect(t.messages.filter((m) => m.from === peerId).map((m) => m.text)).toEqual(expected);
        expect(lines.filter((l) => l.type === 'ACK').length).toBe(items.filter((i) => i.kind === 'send').length + 1);
      }),
      { numRuns: 40 },
    );
    expect(t.engine.status().counters.invalidFrames).toBeGreaterThan(0);
    await waitFor('every fuzzing connection closed', () => t.engine.status().peers.open === 0);
  });
});

describe('the rendezvous request handler under arbitrary input', () => {
  const backend = new SqliteBackend({ db: ':memory:', maxConnections: 50, windowMs: 60_000, blockMs: 60_000, now: Date.now });
  afterAll(() => backend.close());

  /** A request line must always get a JSON object reply with a status, never an exception. */
  async function expectAnswered(line: string): Promise<void> {
    const outcome = await handleRequest(line, '127.0.0.1', backend);
    const reply = pyJsonLoads(outcome.reply) as Record<string, unknown>;
    expect(['OK', 'ERROR']).toContain(reply.status);
    expect(outcome.summary).not.toMatch(/[\n\r]/);
  }

  it('answers any text, and any JSON value, with OK or ERROR', async () => {
    await fc.assert(fc.asyncProperty(anyText, (text) => expectAnswered(text)), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(json, (value) => expectAnswered(JSON.stringify(value) ?? 'null')), { numRuns: 300 });
  });

  it('answers every request type with any value in any field', async () => {
    const value = fc.oneof(json, anyText, fc.constantFrom('NaN', 'Infinity', '-1', '65536', '4007', ''));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('REGISTER', 'register', 'DISCOVER', 'UNREGISTER', 'Unregister'),
        fc.dictionary(fc.constantFrom('name', 'namespace', 'port', 'ttl', '__proto__', 'constructor', 'extra'), value, { maxKeys: 6 }),
        (type, fields) => expectAnswered(JSON.stringify({ type, ...fields })),
      ),
      { numRuns: 500 },
    );
  });

  it('keeps a value the client sent out of the log line as it is, even inside an error it quotes', async () => {
    await expectAnswered(JSON.stringify({ type: 'REGISTER', name: 'a', namespace: 'CIC', port: 5000 }));
    for (const port of ['\n', '1\r\n2026-01-01T00:00:00.000Z INFO  [Rendezvous] forged', '\u2028', 'x'.repeat(10_000)]) {
      const outcome = await handleRequest(JSON.stringify({ type: 'UNREGISTER', namespace: 'CIC', port }), '127.0.0.1', backend);
      expect(outcome.reply).toContain('bad_port');
      expect(outcome.summary).not.toMatch(/[\n\r\u2028]/);
      expect(outcome.summary.length).toBeLessThan(200);
    }
  });

  it('answers deeply nested JSON as invalid instead of overflowing the stack', async () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    for (const n of [2000, 16_000]) {
      for (const field of ['name', 'namespace', 'port', 'ttl', 'type']) {
        const line = `{"type":"REGISTER","name":"a","namespace":"CIC","port":5000,"${field}":${deep(n)}}`;
        const outcome = await handleRequest(line, '127.0.0.1', backend);
        expect(outcome.reply).toBe('{"status": "ERROR", "message": "Unknown command"}');
      }
    }
  });
});
