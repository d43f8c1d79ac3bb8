// chatp2p-files over chatp2p-secure: FILE frames are frames on the chat connection, so they go
// sealed like any other (a chunk in a SEALED_CHUNK box of its own); the proxy between the two
// engines captures every byte to prove it, and tampers with the chunk boxes. A hand-written secure
// peer lies inside a sealed SEALED_CHUNK box. Vitest runs this file twice (vitest.config.ts): on
// this Node's OpenSSL, and on node:crypto as Electron's BoringSSL has it, where the chunk boxes are
// libsodium's, in the worker thread.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, inject, it } from 'vitest';
import type { FileTransfer } from '../../src-main/engine/api.ts';
import { sealedChunkHead } from '../../src-main/engine/extensions/files.ts';
import { CHALLENGE_FIELD, OUR_FEATURES, newChallenge } from '../../src-main/engine/extensions/negotiation.ts';
import { securePrologue } from '../../src-main/engine/extensions/secure.ts';
import { boxWorker } from '../../src-main/engine/secure/box-worker.ts';
import { SecureChannel, defaultChunkBoxes } from '../../src-main/engine/secure/channel.ts';
import { aead, generateKeyPair } from '../../src-main/engine/secure/noise.ts';
import { LineReader, encodeFrame } from '../../src-main/engine/wire/framing.ts';
import { LineProxy, type Tamper } from './proxy.ts';
import { startSecureEngine, stopSecureEngines, type SecureEngine } from './helpers.ts';
import { register, startTestServer } from '../helpers/rendezvous.ts';
import { nextEvent, waitFor, type Frame } from '../helpers/peers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Which node:crypto this run has: Node's own, or one built as Electron's. */
    nodeCrypto: 'openssl' | 'boringssl';
  }
}
const inElectron = inject('nodeCrypto') === 'boringssl';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await stopSecureEngines();
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Alice reaches bob only through the proxy (bob registers elsewhere, so he never dials her). */
async function behindProxy(dir: string, bobAutoAcceptBytes = 0): Promise<{ alice: SecureEngine; bob: SecureEngine; proxy: LineProxy }> {
  const [rdv, bobsRdv] = [await startTestServer(), await startTestServer()];
  cleanup.push(() => rdv.close(), () => bobsRdv.close());
  const bob = await startSecureEngine(bobsRdv.port, 'bob', { overrides: { files: { downloadDir: join(dir, 'bob'), autoAcceptBytes: bobAutoAcceptBytes } } });
  const proxy = new LineProxy(bob.engine.status().listen.port);
  await proxy.listen();
  cleanup.push(() => proxy.close());
  await register(rdv.port, 'bob', 'CIC', proxy.port);
  const alice = await startSecureEngine(rdv.port, 'alice', { overrides: { files: { downloadDir: join(dir, 'alice') } } });
  await waitFor('a sealed connection both ways', () => alice.security('bob@CIC') === 'encrypted' && bob.security('alice@CIC') === 'encrypted');
  return { alice, bob, proxy };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatp2p-secure-files-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

it(`seals the chunk boxes with ${inElectron ? "libsodium's ChaCha20-Poly1305 in the worker thread, as the desktop app does" : "node:crypto's on the event loop"}`, async () => {
  const dir = tempDir();
  const { alice, bob } = await behindProxy(dir);
  // Where node:crypto lacks the cipher, Engine.start waited for libsodium: no session began on @noble's.
  expect(aead.name).toBe(inElectron ? 'libsodium' : 'node:crypto');
  expect(defaultChunkBoxes()).toBe(inElectron ? boxWorker : undefined);
  const content = randomBytes(200_000);
  const source = join(dir, 'notas.bin');
  writeFileSync(source, content);
  const before = boxWorker.done;
  const done = nextEvent(bob.engine, 'transfer', (t: FileTransfer) => t.state === 'complete', 10_000);
  await alice.engine.sendFile('bob@CIC', source);
  bob.engine.acceptFile((await nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered')).id);
  const received = await done;
  expect(readFileSync(received.path!)).toEqual(content);
  // Each chunk box sealed once (alice) and opened once (bob), by the worker or not at all.
  expect(boxWorker.done - before).toBe(inElectron ? 2 * Math.ceil(content.length / (22 * 1024)) : 0);
});

it('moves a file between two secure engines, verified, and the capture holds no FILE frame, name or byte of it in clear', async () => {
  const dir = tempDir();
  const { alice, bob, proxy } = await behindProxy(dir);
  // Several chunks' worth, so FILE_CHUNK frames go both ways' windows.
  const content = randomBytes(300_000);
  const source = join(dir, 'relatorio-secreto.bin');
  writeFileSync(source, content);

  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const ours = await alice.engine.sendFile('bob@CIC', source);
  const theirs = await offered;
  expect(theirs).toMatchObject({ id: ours.id, peerId: 'alice@CIC', name: 'relatorio-secreto.bin', size: content.length });
  const done = nextEvent(alice.engine, 'transfer', (t: FileTransfer) => t.id === ours.id && t.state === 'complete', 10_000);
  bob.engine.acceptFile(ours.id);
  await done;
  const received = bob.engine.transfers().find((t) => t.id === ours.id)!;
  expect(received.state).toBe('complete');
  expect(createHash('sha256').update(readFileSync(received.path!)).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));

  const [toBob, toAlice] = [proxy.lines('toTarget')[0]!, proxy.lines('toClient')[0]!];
  const after = [...toBob.slice(1), ...toAlice.slice(1)];
  const types = after.map((line) => (JSON.parse(line) as { type: string }).type);
  expect(new Set(types)).toEqual(new Set(['NOISE', 'SEALED', 'SEALED_CHUNK']));
  // Every byte of the file went in chunk boxes: 300 000 bytes at 22 KiB a chunk.
  expect(toBob.filter((line) => line.startsWith('{"type":"SEALED_CHUNK"'))).toHaveLength(Math.ceil(content.length / (22 * 1024)));
  const wire = after.join('\n');
  const sample = content.subarray(30_000, 30_030).toString('base64');
  for (const secret of ['"type":"FILE', 'FILE_OFFER', 'FILE_CHUNK', 'relatorio-secreto', ours.id, ours.sha256, sample]) expect(wire).not.toContain(secret);
});

it('auto-accepts a small file only once the user marked the sender verified', async () => {
  const dir = tempDir();
  const { alice, bob } = await behindProxy(dir, 1_000_000);
  const source = join(dir, 'nota.txt');
  writeFileSync(source, 'oi bob');

  const first = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const asked = await alice.engine.sendFile('bob@CIC', source);
  await first;
  // Not verified yet: the offer waits for bob's answer.
  await new Promise((r) => setTimeout(r, 300));
  expect(bob.engine.transfers().find((t) => t.id === asked.id)?.state).toBe('offered');

  bob.engine.verifyKey('alice@CIC');
  const done = nextEvent(bob.engine, 'transfer', (t: FileTransfer) => t.state === 'complete', 10_000);
  const second = await alice.engine.sendFile('bob@CIC', source);
  expect((await done).id).toBe(second.id);
  expect(readFileSync(bob.engine.transfers().find((t) => t.id === second.id)!.path!, 'utf8')).toBe('oi bob');
});

/** From `arm()` on, hands the next SEALED_CHUNK line toward bob to `attack`, once. */
function onNextChunkToBob(attack: (line: Buffer) => Buffer): { tamper: Tamper; arm(): void } {
  let armed = false;
  return {
    arm: () => (armed = true),
    tamper: (line, _index, direction) => {
      if (!armed || direction !== 'toTarget' || !line.toString('latin1').startsWith('{"type":"SEALED_CHUNK"')) return [line];
      armed = false;
      return [attack(line)];
    },
  };
}

it.each([
  [
    'a flipped bit in a chunk box',
    (line: Buffer) => {
      const flipped = Buffer.from(line);
      const at = line.indexOf('"box":"') + 400;
      flipped[at] = flipped[at] === 0x41 ? 0x42 : 0x41;
      return flipped;
    },
  ],
  // The box kinds have their own associated data: a chunk box does not open as a stream box.
  ['a chunk box relabelled SEALED', (line: Buffer) => Buffer.from(line.toString('latin1').replace('"SEALED_CHUNK"', '"SEALED"'), 'latin1')],
])('drops the peer on %s, and the transfer resumes to the right hash', async (_what, attack) => {
  const dir = tempDir();
  const { alice, bob, proxy } = await behindProxy(dir);
  const content = randomBytes(500_000);
  const source = join(dir, 'dados.bin');
  writeFileSync(source, content);
  const tamper = onNextChunkToBob(attack);
  proxy.tamper = tamper.tamper;
  tamper.arm();

  const offered = nextEvent(bob.engine, 'transfer', (t) => t.state === 'offered');
  const ours = await alice.engine.sendFile('bob@CIC', source);
  await offered;
  const done = nextEvent(alice.engine, 'transfer', (t: FileTransfer) => t.id === ours.id && t.state === 'complete', 15_000);
  const before = boxWorker.done;
  bob.engine.acceptFile(ours.id);
  await done;
  expect(bob.logs.some((l) => l.includes('sealed frame does not open') && l.includes('dropping the connection'))).toBe(true);
  // Refused by the path the runtime takes: inside Electron, the worker's.
  expect(boxWorker.done > before).toBe(inElectron);
  expect(proxy.captures.length).toBeGreaterThanOrEqual(2);
  const received = bob.engine.transfers().find((t) => t.id === ours.id)!;
  expect(createHash('sha256').update(readFileSync(received.path!)).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));
});

/**
 * mallory, a hand-written ChatP2P peer with chatp2p-secure and chatp2p-files, dials `port` from
 * 127.0.0.10 and runs the Noise handshake; `send` seals frames and chunks as an engine would.
 */
async function sealedPeer(port: number): Promise<{ frames: Frame[]; send: SecureChannel['send']; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.10' });
  cleanup.push(() => socket.destroy());
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const hello = encodeFrame({ type: 'HELLO', peer_id: 'mallory@CIC', version: '1.0', features: OUR_FEATURES, [CHALLENGE_FIELD]: newChallenge(), ttl: 1 });
  socket.write(hello);
  const frames: Frame[] = [];
  const reader = new LineReader();
  let channel: SecureChannel | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    socket.on('data', (bytes: Buffer) =>
      reader.push(bytes, (line) => {
        if (channel === undefined) {
          channel = new SecureChannel({
            initiator: true,
            prologue: securePrologue(hello.subarray(0, -1), line),
            staticKey: generateKeyPair(),
            sink: {
              write: (out) => socket.write(out),
              line: (inner) => frames.push(JSON.parse(inner.toString('utf8')) as Frame),
              chunk: () => undefined,
              error: reject,
            },
          });
          socket.write(channel.start());
          return;
        }
        const answer = channel.read(line.toString('utf8'));
        if (answer !== undefined) socket.write(answer);
        if (channel.ready) resolve();
      }),
    );
  });
  await ready;
  return { frames, send: (parts) => channel!.send(parts), closed: new Promise((resolve) => socket.once('close', () => resolve())) };
}

it('refuses an oversize chunk inside a sealed SEALED_CHUNK box, tells the sender, and removes the .part', async () => {
  const dir = tempDir();
  const rdv = await startTestServer();
  cleanup.push(() => rdv.close());
  const downloads = join(dir, 'alice');
  const alice = await startSecureEngine(rdv.port, 'alice', { overrides: { files: { downloadDir: downloads } } });
  const mallory = await sealedPeer(alice.engine.status().listen.port);
  await waitFor('a sealed connection', () => alice.security('mallory@CIC') === 'encrypted');

  const size = 100_000;
  const offered = nextEvent(alice.engine, 'transfer', (t) => t.id === 'big-1' && t.state === 'offered');
  const offer = { type: 'FILE_OFFER', file_id: 'big-1', name: 'report.txt', size, media_type: 'text/plain', sha256: createHash('sha256').update(Buffer.alloc(size, 7)).digest('hex'), expires_in: 60, ttl: 1 };
  mallory.send([{ bytes: encodeFrame(offer) }]);
  await offered;
  alice.engine.acceptFile('big-1');
  await waitFor('FILE_ACCEPT', () => mallory.frames.some((f) => f.type === 'FILE_ACCEPT' && f.file_id === 'big-1'));
  expect(readdirSync(downloads)).toEqual(['report.txt.part']);

  const failed = nextEvent(alice.engine, 'transfer', (t) => t.id === 'big-1' && t.state === 'failed');
  // Over the 22,528 bytes a chunk may hold, in a box within the size a SEALED_CHUNK line may have.
  mallory.send([{ bytes: Buffer.alloc(23_500, 7), chunkHead: sealedChunkHead('big-1', 0) }]);
  expect((await failed).error).toContain('sent a chunk over the chunk size');
  await waitFor('FILE_CANCEL', () => mallory.frames.some((f) => f.type === 'FILE_CANCEL' && f.file_id === 'big-1'));
  expect(String(mallory.frames.find((f) => f.type === 'FILE_CANCEL')!.reason)).toContain('sent a chunk over the chunk size');
  await waitFor('the .part is removed', () => readdirSync(downloads).length === 0);
  // The box itself opened: the connection stays up, as for the plain line.
  expect(alice.security('mallory@CIC')).toBe('encrypted');
});
