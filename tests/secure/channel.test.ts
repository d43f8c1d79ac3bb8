// The secure channel with its chunk boxes in the worker thread (as inside Electron, where the
// runtime's ChaCha20-Poly1305 is libsodium's), here forced on under Node: the lines leave in the
// order of the one nonce counter, frames after a chunk still in the worker wait for it, a flipped
// bit in a chunk box breaks the channel with nothing after it delivered, and without a worker the
// boxes are made on the event loop.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LineReader, encodeFrame } from '../../src-main/engine/wire/framing.ts';
import { sealedChunkHead } from '../../src-main/engine/extensions/files.ts';
import { BoxWorker } from '../../src-main/engine/secure/box-worker.ts';
import { SecureChannel, type SecureChannelError } from '../../src-main/engine/secure/channel.ts';
import { generateKeyPair } from '../../src-main/engine/secure/noise.ts';
import { waitFor } from '../helpers/peers.ts';

interface End {
  channel: SecureChannel;
  /** The lines it wrote for the socket, in order. */
  wire: string[];
  /** What it read from the peer, in order: frames as their JSON type, chunks as `chunk <offset>`. */
  got: string[];
  chunks: Buffer[];
  errors: SecureChannelError[];
}

function end(initiator: boolean, prologue: Uint8Array, boxes: BoxWorker | undefined): End {
  const [wire, got, chunks, errors]: [string[], string[], Buffer[], SecureChannelError[]] = [[], [], [], []];
  const reader = new LineReader();
  const channel = new SecureChannel({
    initiator,
    prologue,
    staticKey: generateKeyPair(),
    boxes,
    sink: {
      write: (bytes) => reader.push(bytes, (line) => wire.push(line.toString('latin1'))),
      line: (line) => got.push((JSON.parse(line.toString('utf8')) as { type: string }).type),
      chunk: (head, data) => {
        got.push(`chunk ${(JSON.parse(head) as { offset: number }).offset}`);
        chunks.push(Buffer.from(data));
      },
      error: (err) => errors.push(err),
    },
  });
  return { channel, wire, got, chunks, errors };
}

/** Two channels through the Noise handshake; `boxes` for both (undefined: this runtime's choice, node:crypto's here). */
function pair(boxes: BoxWorker | undefined): [End, End] {
  const prologue = Buffer.from('chatp2p-secure/1\nHELLO\nHELLO_OK\n');
  const [a, b] = [end(true, prologue, boxes), end(false, prologue, boxes)];
  const m2 = b.channel.read(a.channel.start().toString('latin1').trimEnd())!;
  const m3 = a.channel.read(m2.toString('latin1').trimEnd())!;
  b.channel.read(m3.toString('latin1').trimEnd());
  expect(a.channel.ready && b.channel.ready).toBe(true);
  return [a, b];
}

const frame = (type: string) => encodeFrame({ type, msg_id: type, ttl: 1 });
const CHUNKS = [randomBytes(22 * 1024), randomBytes(22 * 1024), randomBytes(1000)];

/** a sends: PING, chunk 0, chunk 1, PONG (sealed behind both), chunk 2, BYE. */
function sendAll(a: End): void {
  a.channel.send([{ bytes: frame('PING') }, { bytes: CHUNKS[0]!, chunkHead: sealedChunkHead('f1', 0) }]);
  a.channel.send([{ bytes: CHUNKS[1]!, chunkHead: sealedChunkHead('f1', 22 * 1024) }, { bytes: frame('PONG') }]);
  a.channel.send([{ bytes: CHUNKS[2]!, chunkHead: sealedChunkHead('f1', 44 * 1024) }, { bytes: frame('BYE') }]);
}

const ORDER = ['PING', 'chunk 0', `chunk ${22 * 1024}`, 'PONG', `chunk ${44 * 1024}`, 'BYE'];

/** Hands what `from` wrote to `to`, and checks that all of it arrived, in order, byte for byte. */
async function readsAll(from: End, to: End): Promise<void> {
  await waitFor('all six lines written', () => from.wire.length === 6);
  for (const line of from.wire) to.channel.read(line);
  await waitFor('all six read', () => to.got.length === 6);
  expect(to.got).toEqual(ORDER);
  expect(to.chunks).toEqual(CHUNKS);
  expect(to.errors).toEqual([]);
}

describe('SecureChannel with its chunk boxes in a worker thread', () => {
  it('writes the lines in nonce order, and they open in that order, byte for byte, on either kind of channel', async () => {
    const worker = new BoxWorker();
    const [a, b] = pair(worker);
    sendAll(a);
    // The PING left at once; what follows the first chunk box waits for the worker, and so does
    // what waits for the lines before it (the end of a connection that said BYE_OK).
    expect(a.wire.map((l) => l.slice(0, 22))).toEqual(['{"type":"SEALED","box"']);
    let writtenBeforeEnd = 0;
    a.channel.afterWrites(() => (writtenBeforeEnd = a.wire.length));
    await readsAll(a, b);
    expect(writtenBeforeEnd).toBe(6);
    expect(a.wire.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['SEALED', 'SEALED_CHUNK', 'SEALED_CHUNK', 'SEALED', 'SEALED_CHUNK', 'SEALED']);
    expect(worker.done).toBe(6);

    // The same lines open on a channel that opens its boxes on the event loop (node:crypto's here).
    const [c, d] = pair(undefined);
    sendAll(c);
    expect(c.wire).toHaveLength(6);
    await readsAll(c, d);
  });

  it('refuses a chunk box with a flipped bit, and delivers nothing after it', async () => {
    const worker = new BoxWorker();
    const [a, b] = pair(worker);
    sendAll(a);
    await waitFor('all six lines written', () => a.wire.length === 6);
    const lines = [...a.wire];
    const at = lines[2]!.indexOf('"box":"') + 400;
    lines[2] = lines[2]!.slice(0, at) + (lines[2]![at] === 'A' ? 'B' : 'A') + lines[2]!.slice(at + 1);

    for (const line of lines) b.channel.read(line);
    await waitFor('the channel breaks', () => b.errors.length === 1);
    expect(b.errors[0]!.message).toContain('sealed frame does not open');
    // Only what came before the altered box: the PONG and BYE boxes after it opened, but stay undelivered.
    await new Promise((r) => setTimeout(r, 50));
    expect(b.got).toEqual(['PING', 'chunk 0']);
    expect(b.errors).toHaveLength(1);
  });

  it('seals and opens on the event loop when no worker can load libsodium, and the lines are the same', async () => {
    const worker = new BoxWorker('no-such-libsodium-build');
    const [a, b] = pair(worker);
    sendAll(a);
    await readsAll(a, b);
    expect(worker.done).toBe(0);
  });

  it('breaks the channel whose boxes a dying worker held, and the next one runs on the event loop', async () => {
    // A module without libsodium's `ready`: the worker throws as it starts.
    const worker = new BoxWorker('node:fs');
    const [a] = pair(worker);
    sendAll(a);
    await waitFor('the channel breaks', () => a.errors.length === 1);
    expect(a.errors[0]!.message).toContain('box worker');
    expect(a.wire).toHaveLength(1);

    const [c, d] = pair(worker);
    sendAll(c);
    await readsAll(c, d);
  });
});
