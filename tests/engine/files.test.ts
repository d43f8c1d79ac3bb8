// chatp2p-files between two engines on 127.0.0.1: a 200 MB file verified, drops through a loopback
// proxy at 30/60/90 %, a receiver restart, decline, expiry and cancel. Files live in a temp folder.

import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { FileTransfer } from '../../src-main/engine/api.ts';
import { CHUNK_BYTES, encodeFileChunk } from '../../src-main/engine/extensions/files.ts';
import { openMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { encodeFrame } from '../../src-main/engine/wire/framing.ts';
import { CuttingProxy } from '../helpers/hostile.ts';
import { nextEvent, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
let dir: string;
const cleanup: (() => unknown)[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-files-'));
});
afterEach(async () => {
  await stopEngines();
  for (const c of cleanup.splice(0).reverse()) await c();
  await rdv.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A file of random bytes, written 1 MiB at a time; resolves with its SHA-256. */
function randomFile(path: string, bytes: number): string {
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'w');
  for (let left = bytes; left > 0; left -= block.length) {
    const part = block.subarray(0, Math.min(left, block.length));
    randomFillSync(part);
    hash.update(part);
    writeSync(fd, part);
  }
  closeSync(fd);
  return hash.digest('hex');
}

function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (c) => hash.update(c)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

/** Every `transfer` event an engine emits. */
function transfersOf(t: TestEngine): FileTransfer[] {
  const seen: FileTransfer[] = [];
  t.engine.on('transfer', (x) => seen.push(x));
  return seen;
}

/**
 * Stops the engine in the very turn `check` is first seen to hold: progress events come a few
 * times a second, and a fast transfer would be over before the next one.
 */
async function stopWhen(t: TestEngine, check: () => boolean): Promise<void> {
  await waitFor('the point to stop at', check, 30_000);
  await t.engine.stop();
}

const open = (t: TestEngine, peerId: string) => t.peer(peerId)?.state === 'open';
const files = (downloads: string) => ({ files: { downloadDir: downloads, offerTtlMs: 60_000 } });

it('a FILE_CHUNK line written straight into bytes is the JSON line encodeFrame writes', () => {
  for (const size of [1, 2, 3, 22 * 1024]) {
    const data = randomFillSync(Buffer.alloc(size));
    expect(encodeFileChunk('f_1-x', 123_456_789, data)).toEqual(encodeFrame({ type: 'FILE_CHUNK', file_id: 'f_1-x', offset: 123_456_789, data: data.toString('base64'), ttl: 1 }));
  }
});

it('moves a 200 MB file, verified, while DMs keep being delivered, and memory stays flat', async () => {
  const source = join(dir, 'big.bin');
  const sha256 = randomFile(source, 200 * 2 ** 20);
  const downloads = join(dir, 'downloads');
  const alice = await startEngine(rdv.port, 'alice', 'CIC', files(downloads));
  const bob = await startEngine(rdv.port, 'bob', 'CIC', files(downloads));
  await waitFor('connected', () => open(alice, 'bob@CIC') && open(bob, 'alice@CIC'));
  const seen = transfersOf(bob);

  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const ours = await alice.engine.sendFile('bob@CIC', source);
  expect(ours).toMatchObject({ direction: 'out', state: 'offered', name: 'big.bin', size: 200 * 2 ** 20, sha256, mediaType: 'application/octet-stream' });
  const theirs = await offered;
  expect(theirs).toMatchObject({ id: ours.id, direction: 'in', peerId: 'alice@CIC', name: 'big.bin', sha256, path: undefined });

  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  cleanup.push(() => clearInterval(sampler));
  const done = nextEvent(alice.engine, 'transfer', (t) => t.id === ours.id && t.state === 'complete', 60_000);
  bob.engine.acceptFile(theirs.id);
  // Chat goes on during the transfer: one DM after another, each waiting for the last's ACK.
  let delivered = 0;
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    const dm = alice.engine.sendDirect('bob@CIC', `during ${delivered}`);
    await nextEvent(alice.engine, 'delivery', (d) => d.msgId === dm.msgId && d.state === 'delivered', 5_000);
    delivered += 1;
  }
  clearInterval(sampler);
  await done;
  const received = await nextEvent(bob.engine, 'transfer', (t) => t.id === ours.id && t.state === 'complete').catch(() => bob.engine.transfers().find((t) => t.id === ours.id)!);
  expect(received).toMatchObject({ state: 'complete', offset: 200 * 2 ** 20, path: join(downloads, 'big.bin') });
  expect(await sha256Of(join(downloads, 'big.bin'))).toBe(sha256);
  expect(readdirSync(downloads)).toEqual(['big.bin']);
  // DMs were delivered while chunks were on the same connection, not only after them.
  const progressDuring = seen.filter((t) => t.state === 'transferring' && t.offset > 0 && t.offset < t.size);
  expect(progressDuring.length).toBeGreaterThan(2);
  expect(delivered).toBeGreaterThan(5);
  expect(bob.messages.length).toBe(delivered);
  expect((rssPeak - rssBefore) / 2 ** 20).toBeLessThan(50);
}, 90_000);

it('resumes from where it was after the network drops at 30, 60 and 90 %, and arrives verified', async () => {
  const source = join(dir, 'notes.pdf');
  const size = 24 * 2 ** 20;
  const sha256 = randomFile(source, size);
  const downloads = join(dir, 'downloads');
  // bob (receiver) listens on 127.0.0.2 and dials nobody; its record says 127.0.0.1 (where it
  // registered from) and the same port, where the proxy listens: every connection goes through it.
  const bob = await startEngine(rdv.port, 'bob', 'R', { ...files(downloads), listenHost: '127.0.0.2', peerConnection: { policy: 'namespace' } });
  const port = bob.engine.status().listen.port;
  const proxy = new CuttingProxy(port, '127.0.0.2');
  cleanup.push(() => proxy.close());
  await proxy.listen(port);
  const alice = await startEngine(rdv.port, 'alice', 'S');
  await waitFor('connected through the proxy', () => open(alice, 'bob@R'));
  const seen = transfersOf(bob);

  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const ours = await alice.engine.sendFile('bob@R', source);
  expect(ours.mediaType).toBe('application/pdf');
  // Each cut is in the middle of the chunk at 30, 60 and 90 % (a fast transfer would pass a mark
  // between two looks at its progress).
  const cutAt = (fraction: number) => `"offset":${Math.floor((fraction * size) / CHUNK_BYTES) * CHUNK_BYTES},"data"`;
  const marks = [0.3, 0.6, 0.9];
  proxy.cutNext(cutAt(marks[0]!), 'toTarget');
  bob.engine.acceptFile((await offered).id);
  for (const [i, fraction] of marks.entries()) {
    await waitFor(`the cut at ${fraction * 100} %`, () => proxy.cuts === i + 1, 30_000);
    const next = marks[i + 1];
    if (next !== undefined) proxy.cutNext(cutAt(next), 'toTarget');
  }
  await nextEvent(alice.engine, 'transfer', (t) => t.id === ours.id && t.state === 'complete', 30_000).catch((err) => {
      throw err;
  });
  expect(proxy.cuts).toBe(3);
  expect(await sha256Of(join(downloads, 'notes.pdf'))).toBe(sha256);
  // Never back to zero: what the receiver had written only grew, and each drop resumed past it.
  const offsets = seen.map((t) => t.offset);
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  const resumes = alice.logs.filter((l) => l.includes('Resuming notes.pdf to bob@R at'));
  expect(resumes).toHaveLength(3);
  expect(alice.logs.filter((l) => l.includes('Resuming notes.pdf to bob@R at 0 B'))).toEqual([]);
}, 60_000);

it('resumes after the receiver restarts mid-transfer, from its history file', async () => {
  const source = join(dir, 'talk.mp4');
  const size = 48 * 2 ** 20;
  const sha256 = randomFile(source, size);
  const downloads = join(dir, 'downloads');
  const historyPath = join(dir, 'bob.sqlite');
  const alice = await startEngine(rdv.port, 'alice', 'CIC');
  let store = openMessageStore(historyPath);
  let bob = await startEngine(rdv.port, 'bob', 'CIC', files(downloads), store);
  await waitFor('connected', () => open(alice, 'bob@CIC'));
  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const ours = await alice.engine.sendFile('bob@CIC', source);
  const id = (await offered).id;
  bob.engine.acceptFile(id);
  await stopWhen(bob, () => (bob.engine.transfers().find((t) => t.id === id)?.offset ?? 0) >= size / 3);
  store.close();
  expect(existsSync(join(downloads, 'talk.mp4.part'))).toBe(true);

  store = openMessageStore(historyPath);
  cleanup.push(() => store.close());
  const kept = store.transfers().find((t) => t.id === id)!;
  expect(kept).toMatchObject({ state: 'transferring', direction: 'in', peerId: 'alice@CIC' });
  expect(kept.offset).toBeGreaterThanOrEqual(size / 3);
  bob = await startEngine(rdv.port, 'bob', 'CIC', files(downloads), store);
  const seen = transfersOf(bob);
  await nextEvent(alice.engine, 'transfer', (t) => t.id === ours.id && t.state === 'complete', 30_000);
  expect(seen.every((t) => t.offset >= kept.offset)).toBe(true);
  expect(bob.logs.some((l) => l.includes('Resuming talk.mp4 from alice@CIC at'))).toBe(true);
  expect(await sha256Of(join(downloads, 'talk.mp4'))).toBe(sha256);
  expect(readdirSync(downloads)).toEqual(['talk.mp4']);
  expect(bob.engine.transfers().find((t) => t.id === id)).toMatchObject({ state: 'complete', path: join(downloads, 'talk.mp4') });
}, 60_000);

it('resumes after the sender restarts mid-transfer, from its history file, at the offset the receiver verified', async () => {
  const source = join(dir, 'lecture.mkv');
  const size = 48 * 2 ** 20;
  const sha256 = randomFile(source, size);
  const downloads = join(dir, 'downloads');
  const historyPath = join(dir, 'alice.sqlite');
  let store = openMessageStore(historyPath);
  let alice = await startEngine(rdv.port, 'alice', 'CIC', {}, store);
  const bob = await startEngine(rdv.port, 'bob', 'CIC', files(downloads));
  await waitFor('connected', () => open(alice, 'bob@CIC'));
  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const ours = await alice.engine.sendFile('bob@CIC', source);
  bob.engine.acceptFile((await offered).id);
  await stopWhen(alice, () => (alice.engine.transfers().find((t) => t.id === ours.id)?.offset ?? 0) >= size / 3);
  store.close();
  const verified = bob.engine.transfers().find((t) => t.id === ours.id)!;
  expect(verified).toMatchObject({ state: 'transferring' });
  expect(verified.offset).toBeGreaterThanOrEqual(size / 3);

  store = openMessageStore(historyPath);
  cleanup.push(() => store.close());
  expect(store.transfers().find((t) => t.id === ours.id)).toMatchObject({ state: 'transferring', direction: 'out', path: source });
  const seen = transfersOf(bob);
  alice = await startEngine(rdv.port, 'alice', 'CIC', {}, store);
  await nextEvent(alice.engine, 'transfer', (t) => t.id === ours.id && t.state === 'complete', 30_000);
  // The new run went on from where the receiver stood, not from zero.
  const resumed = alice.logs.filter((l) => l.includes('Resuming lecture.mkv to bob@CIC at'));
  expect(resumed).toHaveLength(1);
  expect(resumed[0]).not.toContain('at 0 B');
  expect(seen.every((t) => t.offset >= verified.offset)).toBe(true);
  expect(await sha256Of(join(downloads, 'lecture.mkv'))).toBe(sha256);
  expect(readdirSync(downloads)).toEqual(['lecture.mkv']);
}, 60_000);

it('tells the sender about a decline, an offer nobody answers, and a cancel from the receiver', async () => {
  const downloads = join(dir, 'downloads');
  const alice = await startEngine(rdv.port, 'alice', 'CIC', { files: { offerTtlMs: 400 } });
  const bob = await startEngine(rdv.port, 'bob', 'CIC', files(downloads));
  await waitFor('connected', () => open(alice, 'bob@CIC'));
  const small = join(dir, 'small.txt');
  writeFileSync(small, 'oi');

  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const declined = await alice.engine.sendFile('bob@CIC', small);
  expect(bob.engine.declineFile((await offered).id).state).toBe('declined');
  expect(await nextEvent(alice.engine, 'transfer', (t) => t.id === declined.id && t.state !== 'offered')).toMatchObject({ state: 'declined', error: 'declined by bob@CIC' });

  const unanswered = await alice.engine.sendFile('bob@CIC', small);
  expect(await nextEvent(alice.engine, 'transfer', (t) => t.id === unanswered.id && t.state !== 'offered')).toMatchObject({ state: 'expired', error: 'nobody answered the offer' });
  await waitFor('bob sees it expire too', () => bob.engine.transfers().find((t) => t.id === unanswered.id)?.state === 'expired');
  expect(() => bob.engine.acceptFile(unanswered.id)).toThrow('only an offer still waiting for an answer can be accepted');

  const big = join(dir, 'big.bin');
  randomFile(big, 64 * 2 ** 20);
  const offeredBig = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered' && t.name === 'big.bin');
  const cancelled = await alice.engine.sendFile('bob@CIC', big);
  const theirs = bob.engine.acceptFile((await offeredBig).id);
  // In the turn the first bytes are seen: progress events are too far apart for a fast transfer.
  await waitFor('the first bytes', () => (bob.engine.transfers().find((t) => t.id === theirs.id)?.offset ?? 0) > 0, 10_000);
  bob.engine.cancelTransfer(theirs.id);
  expect(await nextEvent(alice.engine, 'transfer', (t) => t.id === cancelled.id && t.state === 'cancelled')).toMatchObject({ error: 'cancelled by bob@CIC: cancelled' });
  await waitFor('the .part is removed', () => readdirSync(downloads).length === 0);
}, 60_000);
