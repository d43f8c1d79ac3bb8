// The ChatApi's file commands on a real ChatService, engine and peers: attach through the host's
// picker, accept into the download folder from the settings, open and show only what we received
// and verified, the legacy-peer reason, and every argument checked.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ChatError, CommandReply, FileSupport, FileTransfer, Profile, Settings } from '../../src-shared/chat-api.ts';
import { ChatService } from '../../src-main/service/chat-service.ts';
import { jsonFileSettingsStore } from '../../src-main/web/settings-file.ts';
import { ScriptedPeer, startEngine, stopEngines, waitFor } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
let dir: string;
let service: ChatService;
const picked: string[][] = [];
const folders: (string | undefined)[] = [];
const opened: string[] = [];
const shown: string[] = [];

beforeEach(async () => {
  rdv = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-service-files-'));
  service = new ChatService({
    store: jsonFileSettingsStore(join(dir, 'settings.json')),
    dataDir: dir,
    host: 'electron',
    listenHost: '127.0.0.1',
    openExternal: () => undefined,
    downloadsDir: join(dir, 'Downloads'),
    pickFiles: async () => picked.shift() ?? [],
    pickFolder: async () => folders.shift(),
    openPath: async (path) => void opened.push(path),
    showItemInFolder: (path) => void shown.push(path),
  });
  const profile: Profile = { name: 'ana', namespace: 'CIC', port: 0, ttl: 600, rendezvous: { preset: 'custom', host: '127.0.0.1', port: rdv.port } };
  await ok(service.dispatch('startProfile', [profile]));
});
afterEach(async () => {
  await service.stop();
  await stopEngines();
  await rdv.close();
  rmSync(dir, { recursive: true, force: true });
  picked.length = folders.length = opened.length = shown.length = 0;
});

async function ok<T>(reply: Promise<CommandReply>): Promise<T> {
  const r = await reply;
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return r.value as T;
}
async function refusal(reply: Promise<CommandReply>): Promise<ChatError> {
  const r = await reply;
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.value)}`);
  return r.error;
}
/** fileSupport, asked until it answers `want` (the connection settles on both sides) or 4 s pass. */
async function supportOf(peerId: string, want: FileSupport['support']): Promise<FileSupport> {
  let support = await ok<FileSupport>(service.dispatch('fileSupport', [peerId]));
  for (let i = 0; i < 200 && support.support !== want; i++) {
    await new Promise((r) => setTimeout(r, 20));
    support = await ok<FileSupport>(service.dispatch('fileSupport', [peerId]));
  }
  return support;
}

function transfers(): FileTransfer[] {
  const seen: FileTransfer[] = [];
  service.onEvent(({ event, payload }) => event === 'transfer' && seen.push(payload as FileTransfer));
  return seen;
}

it('attaches several files in one pick, receives one into the Downloads folder, opens and shows only that one', async () => {
  const seen = transfers();
  const bob = await startEngine(rdv.port, 'bob', 'CIC', { files: { downloadDir: join(dir, 'bob') } });
  await waitFor('connected', () => bob.peer('ana@CIC')?.state === 'open');
  expect(await supportOf('bob@CIC', 'yes')).toEqual({ support: 'yes', reason: undefined });

  writeFileSync(join(dir, 'a.txt'), 'first');
  writeFileSync(join(dir, 'b.txt'), 'second');
  picked.push([join(dir, 'a.txt'), join(dir, 'b.txt')]);
  const offers = await ok<FileTransfer[]>(service.dispatch('attachFiles', ['bob@CIC']));
  expect(offers.map((t) => [t.name, t.state])).toEqual([['a.txt', 'offered'], ['b.txt', 'offered']]);
  picked.push([]);
  expect(await ok<FileTransfer[]>(service.dispatch('attachFiles', ['bob@CIC']))).toEqual([]);

  // bob's file to ana: accepted through the ChatApi, into the Downloads folder the host gave.
  writeFileSync(join(dir, 'photo.png'), 'png bytes');
  const incoming = waitFor('the offer event', () => seen.some((t) => t.direction === 'in' && t.state === 'offered'));
  const theirs = await bob.engine.sendFile('ana@CIC', join(dir, 'photo.png'));
  await incoming;
  expect(await refusal(service.dispatch('openDownload', [theirs.id]))).toEqual({ code: 'transfer-ended', detail: 'only a file received and verified can be opened' });
  await ok(service.dispatch('acceptFile', [theirs.id]));
  await waitFor('complete', () => seen.some((t) => t.id === theirs.id && t.state === 'complete'));
  const path = join(dir, 'Downloads', 'photo.png');
  expect(readFileSync(path, 'utf8')).toBe('png bytes');
  await ok(service.dispatch('openDownload', [theirs.id]));
  await ok(service.dispatch('showDownload', [theirs.id]));
  expect([opened, shown]).toEqual([[path], [path]]);
  // Named .png, but its bytes are no image: no preview.
  expect(await refusal(service.dispatch('previewDownload', [theirs.id]))).toEqual({ code: 'preview-unavailable', detail: 'not an image' });
  // Our own outgoing file is not "a download": main opens nothing for it.
  expect(await refusal(service.dispatch('showDownload', [offers[0]!.id]))).toEqual({ code: 'transfer-ended', detail: 'only a file received and verified can be opened' });
  const listed = await ok<FileTransfer[]>(service.dispatch('transfers', []));
  expect(listed.map((t) => t.name)).toEqual(['a.txt', 'b.txt', 'photo.png']);
  await waitFor('bob is told', () => bob.engine.transfers().find((t) => t.id === theirs.id)?.state === 'complete');
});

it('explains why files cannot go to a legacy peer, and refuses bad arguments', async () => {
  const legacy = new ScriptedPeer({ peerId: 'old@CIC', features: ['ack'] });
  await legacy.listen();
  await legacy.register(rdv.port);
  try {
    const support = await supportOf('old@CIC', 'legacy');
    expect(support).toEqual({ support: 'legacy', reason: 'old@CIC uses a PyP2P client without file transfer: only text can be sent to them' });
    expect(await refusal(service.dispatch('attachFiles', ['old@CIC']))).toEqual({ code: 'files-unsupported', detail: support.reason });
  } finally {
    await legacy.close();
  }
  expect(await refusal(service.dispatch('acceptFile', ['../../etc/passwd']))).toEqual({ code: 'invalid-request', detail: 'unknown file transfer' });
  // A dropped file's bytes: in order, never more than announced, and whole before it is offered.
  const upload = await ok<string>(service.dispatch('beginUpload', ['bob@CIC', '../x.txt', 4]));
  expect(await refusal(service.dispatch('uploadChunk', [upload, 2, Buffer.from('ab').toString('base64')]))).toEqual({ code: 'upload-failed', detail: 'the file changed while it was read' });
  expect(await refusal(service.dispatch('uploadChunk', [upload, 0, 'YQ==']))).toEqual({ code: 'upload-failed', detail: 'unknown upload' });
  const second = await ok<string>(service.dispatch('beginUpload', ['bob@CIC', 'y.txt', 4]));
  await ok(service.dispatch('uploadChunk', [second, 0, Buffer.from('ab').toString('base64')]));
  expect(await refusal(service.dispatch('finishUpload', [second]))).toEqual({ code: 'upload-failed', detail: 'the file did not arrive whole' });
  expect(await refusal(service.dispatch('uploadChunk', [second, 0, 'x'.repeat(200_000)]))).toEqual({ code: 'invalid-request', detail: 'a chunk is 1 to 131072 bytes, in base64' });
  expect(readdirSync(join(dir, 'outgoing'))).toEqual([]);
  expect(await refusal(service.dispatch('openDownload', [{ path: '/etc/passwd' }]))).toEqual({ code: 'invalid-request', detail: 'unknown file transfer' });
  expect(await refusal(service.dispatch('attachFiles', ['nobody']))).toEqual({ code: 'invalid-request', detail: 'a peer is addressed as name@namespace' });
  expect(await refusal(service.dispatch('updateSettings', [{ files: { downloadDir: 'relative/dir' } }]))).toEqual({ code: 'invalid-request', detail: 'the download folder must be an absolute path' });
  expect(await refusal(service.dispatch('updateSettings', [{ files: { maxMB: 0 } }]))).toEqual({ code: 'invalid-request', detail: 'the maximum file size (MB) must be a whole number from 1 to 1048576' });
  const settings = await ok<Settings>(service.dispatch('updateSettings', [{ files: { maxMB: 5 } }]));
  expect(settings.files).toEqual({ downloadDir: undefined, maxMB: 5, autoAcceptMB: 0 });
});

it('the download folder comes from the host\'s picker, only when it is a folder we can write in, and the next accept uses it', async () => {
  const chosen = join(dir, 'Aulas');
  mkdirSync(chosen);
  writeFileSync(join(dir, 'a-file'), 'x');
  folders.push(join(dir, 'missing'), join(dir, 'a-file'), undefined, chosen);
  const before = service.settings.files;
  expect(await refusal(service.dispatch('chooseDownloadFolder', []))).toEqual({ code: 'folder-unwritable', detail: `cannot write in ${join(dir, 'missing')}: ENOENT` });
  expect(await refusal(service.dispatch('chooseDownloadFolder', []))).toEqual({ code: 'folder-unwritable', detail: `cannot write in ${join(dir, 'a-file')}: not a folder` });
  // Cancelled: nothing changes.
  expect((await ok<Settings>(service.dispatch('chooseDownloadFolder', []))).files).toEqual(before);
  expect((await ok<Settings>(service.dispatch('chooseDownloadFolder', []))).files.downloadDir).toBe(chosen);
  expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')).files.downloadDir).toBe(chosen);

  const bob = await startEngine(rdv.port, 'bob', 'CIC', { files: { downloadDir: join(dir, 'bob') } });
  await waitFor('ana and bob connected', () => bob.peer('ana@CIC')?.state === 'open', 8_000);
  writeFileSync(join(dir, 'lista.txt'), 'exercícios');
  const offer = await bob.engine.sendFile('ana@CIC', join(dir, 'lista.txt'));
  let incoming: FileTransfer[] = [];
  for (let i = 0; i < 200 && incoming.length === 0; i++) {
    incoming = (await ok<FileTransfer[]>(service.dispatch('transfers', []))).filter((t) => t.id === offer.id);
    if (incoming.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  await ok(service.dispatch('acceptFile', [offer.id]));
  await waitFor('the file arrived', () => bob.engine.transfers()[0]?.state === 'complete', 8_000);
  expect(readFileSync(join(chosen, 'lista.txt'), 'utf8')).toBe('exercícios');
  // And back to the system's Downloads folder: the only change to it a renderer may ask for.
  expect((await ok<Settings>(service.dispatch('updateSettings', [{ files: { downloadDir: null } }]))).files.downloadDir).toBeUndefined();
  expect(await refusal(service.dispatch('updateSettings', [{ files: { downloadDir: chosen } }]))).toEqual({
    code: 'invalid-request',
    detail: 'the download folder is chosen with the folder picker (chooseDownloadFolder)',
  });
});
