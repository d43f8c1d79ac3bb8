// chatp2p-secure through the ChatApi, as the desktop app and the browser host run it: a ChatService
// with its settings file, a real engine, our rendezvous server and a secure engine peer.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ChatPeer, CommandReply, ExportedConversation, HistoryPage, KeyList, PeerKeyView, SearchResult, Settings, Snapshot } from '../../src-shared/chat-api.ts';
import type { KeyProtection } from '../../src-main/engine/secure/identity.ts';
import { ChatService } from '../../src-main/service/chat-service.ts';
import { historyPath } from '../../src-main/service/history-path.ts';
import { jsonFileSettingsStore } from '../../src-main/web/settings-file.ts';
import { attackerAddress } from '../helpers/hostile.ts';
import { ScriptedPeer, waitFor } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { startSecureEngine, stopSecureEngine, stopSecureEngines } from './helpers.ts';

let rdv: TestServer;
let dir: string;
let service: ChatService | undefined;
beforeEach(async () => {
  rdv = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-secure-service-'));
});
afterEach(async () => {
  await service?.stop();
  service = undefined;
  await stopSecureEngines();
  await rdv.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ok<T>(reply: Promise<CommandReply>): Promise<T> {
  const r = await reply;
  if (!r.ok) throw new Error(`refused: ${r.error}`);
  return r.value as T;
}

function start(keyProtection?: KeyProtection): { service: ChatService; peers: ChatPeer[]; keys: PeerKeyView[] } {
  const s = new ChatService({ store: jsonFileSettingsStore(join(dir, 'settings.json')), dataDir: dir, host: 'web', listenHost: '127.0.0.1', openExternal: () => undefined, keyProtection: () => keyProtection });
  service = s;
  const seen = { service: s, peers: [] as ChatPeer[], keys: [] as PeerKeyView[] };
  s.on('peer', (p) => seen.peers.push(p));
  s.on('keys', (k) => seen.keys.push(k));
  return seen;
}

const profile = () => ({ name: 'ana', namespace: 'CIC', port: 0, ttl: 600, rendezvous: { preset: 'custom' as const, host: '127.0.0.1', port: rdv.port } });

it('shows the lock, the safety number and the key at rest through the ChatApi, and checks its arguments', async () => {
  const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  const { service: s, peers, keys } = start({ name: 'electron-safeStorage', encrypt: xor, decrypt: xor });
  const snapshot = await ok<Snapshot>(s.dispatch('startProfile', [profile()]));
  expect(snapshot.status.identity).toMatchObject({ protectedAtRest: true, fingerprint: expect.stringMatching(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/) });
  const file = JSON.parse(readFileSync(join(dirname(historyPath(dir, 'ana@CIC')), 'identity.key'), 'utf8')) as { protection: string };
  expect(file.protection).toBe('electron-safeStorage');

  const bob = await startSecureEngine(rdv.port, 'bob');
  await waitFor('bob shown with a lock', () => peers.some((p) => p.peerId === 'bob@CIC' && p.security === 'encrypted'));
  await waitFor('each pinned the other', () => keys.some((k) => k.peerId === 'bob@CIC') && bob.engine.keys('ana@CIC').length === 1);
  const list = await ok<KeyList>(s.dispatch('keys', ['bob@CIC']));
  expect(list.fingerprint).toBe(snapshot.status.identity!.fingerprint);
  expect(list.keys[0]!.safetyNumber).toBe(bob.engine.keys('ana@CIC')[0]!.safetyNumber);
  expect((await ok<PeerKeyView>(s.dispatch('verifyKey', ['bob@CIC', true]))).verified).toBe(true);

  for (const [command, args, error] of [
    ['verifyKey', ['bob@CIC', 'yes'], 'verified must be true or false'],
    ['verifyKey', ['bob', true], 'a peer is addressed as name@namespace'],
    ['acceptKey', [{}], 'a peer is addressed as name@namespace'],
    ['acceptKey', ['bob@CIC'], 'no new key of bob@CIC waits to be accepted'],
    ['keys', ['x'.repeat(10_000)], 'a peer is addressed as name@namespace'],
  ] as const) {
    expect(await s.dispatch(command, [...args])).toEqual({ ok: false, error: { code: 'invalid-request', detail: error } });
  }
});

it('says when the identity key has only its file permissions to protect it', async () => {
  const { service: s } = start();
  const snapshot = await ok<Snapshot>(s.dispatch('startProfile', [profile()]));
  expect(snapshot.status.identity?.protectedAtRest).toBe(false);
});

it('keeps a plaintext impostor\'s DMs in a chat apart: listed, counted, searched, muted, exported and deleted as its own', async () => {
  const { service: s, peers } = start();
  await ok<Snapshot>(s.dispatch('startProfile', [profile()]));
  const bob = await startSecureEngine(rdv.port, 'bob');
  await waitFor('bob pinned, with a lock', () => peers.some((p) => p.peerId === 'bob@CIC' && p.security === 'encrypted'));
  bob.engine.sendDirect('ana@CIC', 'oi, é o bob');
  await waitFor('the real DM arrived', () => s.totalUnread() === 1);
  await stopSecureEngine(bob);
  await waitFor('bob gone', () => peers.at(-1)?.peerId === 'bob@CIC' && peers.at(-1)?.state !== 'open');

  const impostor = new ScriptedPeer({ peerId: 'bob@CIC' });
  try {
    const snapshot = await ok<Snapshot>(s.dispatch('getSnapshot', []));
    const socket = await impostor.dial(snapshot.status.listen!.port, 'bob@CIC', attackerAddress(1)(0));
    await impostor.nextFrame((f) => f.type === 'HELLO_OK');
    const acked = impostor.nextFrame((f) => f.type === 'ACK' && f.msg_id === 'fake-1');
    impostor.write(socket, { type: 'SEND', msg_id: 'fake-1', src: 'bob@CIC', dst: 'ana@CIC', payload: 'manda a senha do wifi', require_ack: true, ttl: 1 });
    await acked;
  } finally {
    await impostor.close();
  }

  const { conversations } = await ok<Snapshot>(s.dispatch('getSnapshot', []));
  const byId = Object.fromEntries(conversations.map((c) => [c.id, c]));
  expect(byId['dm-unverified:bob@CIC']).toMatchObject({ kind: 'unverified', title: 'bob@CIC', unread: 1, notify: true, last: { text: 'manda a senha do wifi' } });
  expect(byId['dm:bob@CIC']).toMatchObject({ kind: 'dm', unread: 1, last: { text: 'oi, é o bob' } });
  const texts = async (id: string) => (await ok<HistoryPage>(s.dispatch('history', [id]))).messages.map((m) => m.text);
  expect(await texts('dm:bob@CIC')).toEqual(['oi, é o bob']);
  expect(await texts('dm-unverified:bob@CIC')).toEqual(['manda a senha do wifi']);
  expect((await ok<SearchResult[]>(s.dispatch('search', ['senha']))).map((h) => h.conversationId)).toEqual(['dm-unverified:bob@CIC']);

  expect((await ok<Settings>(s.dispatch('mute', ['dm-unverified:bob@CIC', 'always']))).muted).toEqual({ 'dm-unverified:bob@CIC': 'always' });
  expect((await ok<Snapshot>(s.dispatch('getSnapshot', []))).conversations.find((c) => c.id === 'dm:bob@CIC')?.notify).toBe(true);

  const text = await ok<ExportedConversation>(s.dispatch('exportConversation', ['dm-unverified:bob@CIC', 'text']));
  expect(text.fileName).toMatch(/^chatp2p-bob@CIC-unverified-\d{4}-\d{2}-\d{2}\.txt$/);
  expect(text.content).toMatch(/^ChatP2P: bob@CIC, unverified \(not from the pinned key\), seen by ana@CIC/);
  expect(text.content).toContain('bob@CIC [unverified]: manda a senha do wifi');

  await ok(s.dispatch('markRead', ['dm-unverified:bob@CIC']));
  expect(s.totalUnread()).toBe(1);
  await ok(s.dispatch('deleteConversation', ['dm-unverified:bob@CIC']));
  expect(await texts('dm-unverified:bob@CIC')).toEqual([]);
  expect(await texts('dm:bob@CIC')).toEqual(['oi, é o bob']);
});
