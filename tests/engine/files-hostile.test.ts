// chatp2p-files against a hand-written sender: a lying one is refused and its `.part` removed,
// hostile names stay inside the download folder, and a legacy peer gets no file.

import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { numberedName, safeFileName } from '../../src-main/engine/extensions/files.ts';
import { ScriptedPeer, nextEvent, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
let dir: string;
let downloads: string;
const peers: ScriptedPeer[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-files-hostile-'));
  downloads = join(dir, 'downloads');
});
afterEach(async () => {
  await stopEngines();
  for (const p of peers.splice(0)) await p.close();
  await rdv.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** alice (an engine) connected to mallory, a scripted peer that speaks chatp2p-files. */
async function connected(features = ['ack', 'chatp2p-pipeline', 'chatp2p-files']): Promise<{ alice: TestEngine; mallory: ScriptedPeer; socket: Socket }> {
  const mallory = new ScriptedPeer({ peerId: 'mallory@CIC', features });
  peers.push(mallory);
  await mallory.listen();
  await mallory.register(rdv.port);
  const alice = await startEngine(rdv.port, 'alice', 'CIC', { files: { downloadDir: downloads } });
  await waitFor('connected', () => alice.peer('mallory@CIC')?.state === 'open' && mallory.sockets.size === 1);
  return { alice, mallory, socket: [...mallory.sockets][0]! };
}

/** Offers `name`, has alice accept it, and resolves once alice's FILE_ACCEPT arrives. */
async function offerAccepted(t: { alice: TestEngine; mallory: ScriptedPeer; socket: Socket }, fileId: string, name: string, size: number, sha256: string) {
  const offered = nextEvent(t.alice.engine, 'transfer', (x) => x.id === fileId && x.state === 'offered');
  t.mallory.write(t.socket, { type: 'FILE_OFFER', file_id: fileId, name, size, media_type: 'text/plain', sha256, expires_in: 60, ttl: 1 });
  await offered;
  const accepted = t.mallory.nextFrame((f) => f.type === 'FILE_ACCEPT' && f.file_id === fileId);
  t.alice.engine.acceptFile(fileId);
  expect(await accepted).toMatchObject({ offset: 0 });
}

const chunk = (fileId: string, offset: number, data: Buffer) => ({ type: 'FILE_CHUNK', file_id: fileId, offset, data: data.toString('base64'), ttl: 1 });

describe('a lying sender', () => {
  it.each([
    ['a wrong SHA-256', 5, Buffer.from('hello'), sha('something else'), 'does not match its SHA-256'],
    ['more bytes than offered', 5, Buffer.from('hello, world'), sha('hello'), 'sent more bytes than it offered'],
    ['a chunk over the chunk size', 100_000, Buffer.alloc(24_000, 7), sha(Buffer.alloc(100_000, 7)), 'sent a chunk over the chunk size'],
  ])('with %s is refused, told so, and its .part removed', async (_what, size, data, sha256, error) => {
    const t = await connected();
    await offerAccepted(t, 'lie-1', 'report.txt', size, sha256);
    expect(readdirSync(downloads)).toEqual(['report.txt.part']);
    const cancel = t.mallory.nextFrame((f) => f.type === 'FILE_CANCEL' && f.file_id === 'lie-1');
    t.mallory.write(t.socket, chunk('lie-1', 0, data));
    const failed = await nextEvent(t.alice.engine, 'transfer', (x) => x.id === 'lie-1' && x.state === 'failed');
    expect(failed.error).toContain(error);
    expect(String((await cancel).reason)).toContain(error);
    await waitFor('the .part is removed', () => readdirSync(downloads).length === 0);
    // The connection and the chat survive it.
    expect(t.alice.peer('mallory@CIC')?.state).toBe('open');
  });

  it('that skips bytes is refused too', async () => {
    const t = await connected();
    await offerAccepted(t, 'gap-1', 'gap.bin', 10, sha('0123456789'));
    t.mallory.write(t.socket, chunk('gap-1', 4, Buffer.from('456789')));
    expect((await nextEvent(t.alice.engine, 'transfer', (x) => x.id === 'gap-1' && x.state === 'failed')).error).toContain('skipped bytes');
    await waitFor('the .part is removed', () => readdirSync(downloads).length === 0);
  });
});

it('writes files with hostile names inside the download folder only, never over another', async () => {
  const t = await connected();
  const names = ['../../x', '..', '/etc/passwd', 'C:\\Windows\\evil.exe', 'CON', 'con.txt', 'nul\u0000.txt', 'line\nbreak.txt', '\u202Etxt.exe', 'notes.pdf', 'notes.pdf'];
  const paths: string[] = [];
  for (const [i, name] of names.entries()) {
    const content = Buffer.from(`file ${i}`);
    await offerAccepted(t, `name-${i}`, name, content.length, sha(content));
    t.mallory.write(t.socket, chunk(`name-${i}`, 0, content));
    const done = await nextEvent(t.alice.engine, 'transfer', (x) => x.id === `name-${i}` && x.state === 'complete');
    expect(readFileSync(done.path!, 'utf8')).toBe(`file ${i}`);
    paths.push(done.path!);
  }
  expect(paths.every((p) => dirname(p) === downloads)).toBe(true);
  expect(readdirSync(dir)).toEqual(['downloads']);
  const written = readdirSync(downloads).sort();
  expect(written).toHaveLength(names.length);
  expect(written.every((n) => !/[\u0000-\u001f/\\]/.test(n) && !/^(con|nul)(\..*)?$/i.test(n) && !n.startsWith('.'))).toBe(true);
  expect(written).toEqual(expect.arrayContaining(['notes.pdf', 'notes (1).pdf', '_CON', '_con.txt', 'line_break.txt', 'C__Windows_evil.exe']));
});

it('offers nothing to a legacy peer, and says why; its FILE_* frames are ignored', async () => {
  const t = await connected(['ack']);
  expect(t.alice.engine.fileSupport('mallory@CIC')).toBe('legacy');
  await expect(t.alice.engine.sendFile('mallory@CIC', __filename)).rejects.toThrow('mallory@CIC uses a client without file transfer (chatp2p-files): files cannot be sent to it');
  t.mallory.write(t.socket, { type: 'FILE_OFFER', file_id: 'x1', name: 'a.txt', size: 1, media_type: 'text/plain', sha256: sha('a'), ttl: 1 });
  const dm = t.alice.engine.sendDirect('mallory@CIC', 'still here');
  await nextEvent(t.alice.engine, 'delivery', (d) => d.msgId === dm.msgId && d.state === 'delivered');
  expect(t.alice.engine.transfers()).toEqual([]);
  expect(t.alice.logs).toContain('DEBUG [Peers] mallory@CIC: ignoring FILE_OFFER without chatp2p-files');
});

describe('safeFileName', () => {
  it.each([
    ['../../x', '_.._x'],
    ['..', 'file'],
    ['', 'file'],
    ['CON', '_CON'],
    ['lpt1.log', '_lpt1.log'],
    ['a\u0000b\nc', 'a_b_c'],
    ['trailing. . ', 'trailing_'],
    ['ok name (2).pdf', 'ok name (2).pdf'],
  ])('%j → %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('keeps the extension of a long name within 200 bytes', () => {
    const name = safeFileName(`${'ã'.repeat(300)}.pdf`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith('.pdf')).toBe(true);
  });

  it('numbers before the extension', () => {
    expect([numberedName('a.pdf', 0), numberedName('a.pdf', 2), numberedName('README', 1)]).toEqual(['a.pdf', 'a (2).pdf', 'README (1)']);
  });
});
