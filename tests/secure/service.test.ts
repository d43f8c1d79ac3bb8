// chatp2p-secure through the ChatApi, as the desktop app and the browser host run it: a ChatService
// with its settings file, a real engine, our rendezvous server and a secure engine peer.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ChatPeer, CommandReply, KeyList, PeerKeyView, Snapshot } from '../../src-shared/chat-api.ts';
import type { KeyProtection } from '../../src-main/engine/secure/identity.ts';
import { ChatService } from '../../src-main/service/chat-service.ts';
import { historyPath } from '../../src-main/service/history-path.ts';
import { jsonFileSettingsStore } from '../../src-main/web/settings-file.ts';
import { waitFor } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { startSecureEngine, stopSecureEngines } from './helpers.ts';

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
