// The ChatApi as both hosts run it: a ChatService with a real settings file, a real engine, our
// rendezvous server and real engine peers on 127.0.0.1.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvents, ChatMessage, CommandReply, EventName, ExportedConversation, HistoryPage, Profile, SearchResult, Settings, Snapshot } from '../../src-shared/chat-api.ts';
import { ChatService } from '../../src-main/service/chat-service.ts';
import { historyPath } from '../../src-main/service/history-path.ts';
import { jsonFileSettingsStore } from '../../src-main/web/settings-file.ts';
import { nextEvent, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { silentPort, startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
let dir: string;
const services: ChatService[] = [];
const opened: string[] = [];

function newService(): ChatService {
  const service = new ChatService({
    store: jsonFileSettingsStore(join(dir, 'settings.json')),
    dataDir: dir,
    host: 'web',
    listenHost: '127.0.0.1',
    openExternal: (url) => {
      opened.push(url);
    },
  });
  services.push(service);
  return service;
}

const profile = (overrides: Partial<Profile> = {}): Profile => ({
  name: 'ana',
  namespace: 'CIC',
  port: 0,
  ttl: 600,
  rendezvous: { preset: 'custom', host: '127.0.0.1', port: rdv.port },
  ...overrides,
});

async function ok<T>(reply: Promise<CommandReply>): Promise<T> {
  const r = await reply;
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return r.value as T;
}

/** A refusal as `<code>: <detail>`, so one pattern checks both what the UI words and the raw reason. */
async function refusal(reply: Promise<CommandReply>): Promise<string> {
  const r = await reply;
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.value)}`);
  return `${r.error.code}: ${r.error.detail ?? ''}`;
}

/** Everything the service emitted, by event name. */
function record(service: ChatService) {
  const seen: { [K in EventName]?: ChatEvents[K][] } = {};
  service.onEvent(({ event, payload }) => ((seen[event] ??= [] as never) as unknown[]).push(payload));
  return seen;
}

async function started(): Promise<{ service: ChatService; bob: TestEngine; events: ReturnType<typeof record> }> {
  const service = newService();
  const events = record(service);
  await ok(service.dispatch('startProfile', [profile()]));
  const bob = await startEngine(rdv.port, 'bob', 'CIC');
  await waitFor('bob connected', () => bob.peer('ana@CIC')?.state === 'open');
  await waitFor('ana sees bob open', () => (events.peer ?? []).some((p) => p.peerId === 'bob@CIC' && p.state === 'open'));
  return { service, bob, events };
}

beforeEach(async () => {
  rdv = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-service-'));
  opened.length = 0;
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  await stopEngines();
  await rdv.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ChatService: profile and settings', () => {
  it('starts with no profile: the snapshot asks for one and sending explains why it cannot', async () => {
    const service = newService();
    await service.start();
    const snapshot = await ok<Snapshot>(service.dispatch('getSnapshot', []));
    expect(snapshot.settings.profile).toBeUndefined();
    expect(snapshot.status.running).toBe(false);
    expect(snapshot.conversations.map((c) => c.id)).toEqual(['*']);
    expect(await refusal(service.dispatch('sendDirect', ['bob@CIC', 'oi']))).toMatch(/^not-connected: .*set up your profile first/);
  });

  it('refuses a bad profile with the rule it breaks, and saves nothing', async () => {
    const service = newService();
    expect(await refusal(service.dispatch('startProfile', [profile({ name: 'ana maria' })]))).toMatch(/^invalid-profile: .*name must not contain spaces/);
    expect(await refusal(service.dispatch('startProfile', [profile({ namespace: 'x'.repeat(65) })]))).toMatch(/namespace must be 1 to 64 characters/);
    expect(await refusal(service.dispatch('startProfile', [profile({ port: 70000 })]))).toMatch(/port must be a whole number from 0 to 65535/);
    expect(await refusal(service.dispatch('startProfile', [profile({ ttl: 0 })]))).toMatch(/TTL/);
    expect(await refusal(service.dispatch('startProfile', [{ ...profile(), rendezvous: { preset: 'mine', host: 'x', port: 1 } }]))).toMatch(/rendezvous server must be one of/);
    expect(await refusal(service.dispatch('startProfile', ['ana']))).toMatch(/profile must be an object/);
    expect(() => readFileSync(join(dir, 'settings.json'))).toThrow(/ENOENT/);
  });

  it('registers with the saved profile, and a restarted service goes straight back in with the same settings', async () => {
    const first = newService();
    const snapshot = await ok<Snapshot>(first.dispatch('startProfile', [profile()]));
    expect(snapshot.status).toMatchObject({ running: true, peerId: 'ana@CIC' });
    await waitFor('registered', () => rdv.registrations === 1);
    await ok(first.dispatch('updateSettings', [{ theme: 'dark', language: 'pt-BR', timers: { ackTimeoutS: 9 }, notifyChannels: ['#CIC'] }]));
    await first.stop();
    await waitFor('unregistered on stop', () => rdv.registrations === 0);

    const second = newService();
    await second.start();
    const again = await ok<Snapshot>(second.dispatch('getSnapshot', []));
    expect(again.settings).toMatchObject({ profile: profile(), theme: 'dark', language: 'pt-BR', notifyChannels: ['#CIC'] });
    expect(again.settings.timers.ackTimeoutS).toBe(9);
    expect(again.status.running).toBe(true);
    await waitFor('registered again', () => rdv.registrations === 1);
  });

  it('keeps what is valid in a damaged settings file, logs the rest, and still opens', async () => {
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ theme: 'dark', language: 'klingon', timers: { pingIntervalS: -1, ackTimeoutS: 7 }, profile: { name: '' } }));
    const service = newService();
    const { settings } = await ok<Snapshot>(service.dispatch('getSnapshot', []));
    expect(settings).toMatchObject({ theme: 'dark', language: 'system', profile: undefined });
    expect(settings.timers).toMatchObject({ ackTimeoutS: 7, pingIntervalS: 30 });
    const logs = await ok<{ message: string }[]>(service.dispatch('logs', []));
    expect(logs.map((l) => l.message).join('\n')).toMatch(/saved language.*must be one of[\s\S]*saved timers[\s\S]*saved profile/);

    writeFileSync(join(dir, 'settings.json'), 'not json {');
    expect((await ok<Snapshot>(newService().dispatch('getSnapshot', []))).settings.theme).toBe('system');
  });

  it('checks a profile before it is used: a taken port, a silent server, something that is no rendezvous server', async () => {
    const service = newService();
    const busy: Server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const taken = (busy.address() as AddressInfo).port;
    const silent = await silentPort();
    try {
      expect(await ok(service.dispatch('checkProfile', [profile()]))).toEqual({ port: undefined, rendezvous: undefined });
      const check = await ok(service.dispatch('checkProfile', [profile({ port: taken, rendezvous: { preset: 'custom', host: '127.0.0.1', port: silent } })]));
      expect(check).toMatchObject({
        port: { code: 'port-in-use', port: taken },
        rendezvous: { code: 'rendezvous-unreachable', server: `127.0.0.1:${silent}`, detail: expect.stringMatching(/ECONNREFUSED|refused|cannot reach/i) },
      });
      expect(await ok(service.dispatch('checkProfile', [profile({ rendezvous: { preset: 'custom', host: '127.0.0.1', port: taken } })]))).toMatchObject({
        rendezvous: { code: 'rendezvous-bad-reply', server: `127.0.0.1:${taken}` },
      });
      // Nothing was saved or started by checking.
      expect((await ok<Snapshot>(service.dispatch('getSnapshot', []))).settings.profile).toBeUndefined();
      expect(rdv.registrations).toBe(0);
    } finally {
      busy.close();
    }
  });

  it('runs with a server that does not answer: the status says since when, and Discover says why in a code', async () => {
    const port = await silentPort();
    const service = newService();
    const before = Date.now();
    await ok(service.dispatch('startProfile', [profile({ rendezvous: { preset: 'custom', host: '127.0.0.1', port } })]));
    expect(await refusal(service.dispatch('discover', []))).toMatch(new RegExp(`^rendezvous-unreachable: .*127\\.0\\.0\\.1:${port}`));
    const { registration } = (await ok<Snapshot>(service.dispatch('getSnapshot', []))).status;
    expect(registration).toMatchObject({ state: 'unreachable', server: `127.0.0.1:${port}` });
    expect(registration!.unreachableSince).toBeGreaterThanOrEqual(before);
  });

  it('says so when the port is taken, and starts once the user picks another', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const service = newService();
    expect(await refusal(service.dispatch('startProfile', [profile({ port })]))).toBe(`port-in-use: port ${port} is already in use on 127.0.0.1`);
    const { status } = await ok<Snapshot>(service.dispatch('getSnapshot', []));
    expect(status).toMatchObject({ running: false, error: { code: 'port-in-use', port } });
    busy.close();
    expect((await ok<Snapshot>(service.dispatch('startProfile', [profile()]))).status).toMatchObject({ running: true, error: undefined });

    // Changing a working profile to a busy port keeps the user online with the old one.
    const again: Server = createServer();
    await new Promise<void>((r) => again.listen(0, '127.0.0.1', r));
    const taken = (again.address() as AddressInfo).port;
    expect(await refusal(service.dispatch('startProfile', [profile({ name: 'bia', port: taken })]))).toMatch(/^port-in-use: .*already in use/);
    again.close();
    const after = await ok<Snapshot>(service.dispatch('getSnapshot', []));
    expect([after.status.running, after.status.peerId, after.settings.profile?.name]).toEqual([true, 'ana@CIC', 'ana']);
  });

  it('"This computer" runs our rendezvous server, where other peers find us', async () => {
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    const service = newService();
    const snapshot = await ok<Snapshot>(service.dispatch('startProfile', [profile({ rendezvous: { preset: 'local', host: 'ignored', port } })]));
    expect(snapshot.status.localServer).toEqual({ host: '127.0.0.1', port });
    expect(snapshot.settings.profile?.rendezvous).toEqual({ preset: 'local', host: '127.0.0.1', port });
    const carol = await startEngine(port, 'carol', 'CIC');
    await waitFor('carol finds ana through it', () => carol.peer('ana@CIC')?.state === 'open');
  });
});

describe('ChatService: conversations with a real peer', () => {
  it('a DM is delivered, and a reply counts as unread until the UI says it was on screen', async () => {
    const { service, bob, events } = await started();
    const sent = await ok<ChatMessage>(service.dispatch('sendDirect', ['bob@CIC', 'oi, bob']));
    expect(sent).toMatchObject({ conversationId: 'dm:bob@CIC', direction: 'out', from: 'ana@CIC', text: 'oi, bob' });
    await waitFor('delivered', () => (events.delivery ?? []).some((m) => m.msgId === sent.msgId && m.delivery === 'delivered'));
    expect(bob.messages.map((m) => m.text)).toEqual(['oi, bob']);

    await ok(service.dispatch('setActiveConversation', ['#CIC']));
    bob.engine.sendDirect('ana@CIC', 'tudo bem?');
    await waitFor('unread reply', () => (events.conversations ?? []).at(-1)?.find((c) => c.id === 'dm:bob@CIC')?.unread === 1);
    expect(service.totalUnread()).toBe(1);
    const history = (await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC']))).messages;
    expect(history.map((m) => [m.direction, m.text, m.delivery])).toEqual([
      ['out', 'oi, bob', 'delivered'],
      ['in', 'tudo bem?', undefined],
    ]);

    // Opening the chat is not reading it: only what was on screen counts.
    await ok(service.dispatch('setActiveConversation', ['dm:bob@CIC']));
    expect(service.totalUnread()).toBe(1);
    bob.engine.sendDirect('ana@CIC', 'and now?');
    await waitFor('second reply', () => (events.message ?? []).some((m) => m.text === 'and now?'));
    const summary = () => (events.conversations ?? []).at(-1)?.find((c) => c.id === 'dm:bob@CIC');
    await waitFor('two unread', () => summary()?.unread === 2);
    const [first, second] = (await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC']))).messages.filter((m) => m.direction === 'in');
    expect(summary()?.firstUnread).toBe(first!.seq);
    await ok(service.dispatch('markRead', ['dm:bob@CIC', first!.seq]));
    await waitFor('the first one read', () => summary()?.unread === 1 && summary()?.firstUnread === second!.seq);
    await ok(service.dispatch('markRead', ['dm:bob@CIC']));
    await waitFor('all read', () => summary()?.unread === 0 && summary()?.firstUnread === undefined);
    expect(service.totalUnread()).toBe(0);
  });

  it('read receipts: what the UI had on screen is told to a ChatP2P peer, and nothing once they are off', async () => {
    const { service, bob, events } = await started();
    const theirs = [bob.engine.sendDirect('ana@CIC', 'um'), bob.engine.sendDirect('ana@CIC', 'dois'), bob.engine.sendDirect('ana@CIC', 'três')];
    await waitFor('three unread', () => service.totalUnread() === 3);
    const state = (msgId: string) => bob.deliveries.filter((d) => d.msgId === msgId).at(-1)?.state;
    const seqs = (await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC']))).messages.map((m) => m.seq);
    await ok(service.dispatch('markRead', ['dm:bob@CIC', seqs[1]]));
    await waitFor('the two on screen read', () => state(theirs[1]!.msgId) === 'read');
    expect(state(theirs[0]!.msgId)).toBe('read');
    expect(state(theirs[2]!.msgId)).toBe('delivered');

    // Ours turns read too, and the history says so.
    const mine = await ok<ChatMessage>(service.dispatch('sendDirect', ['bob@CIC', 'leu?', theirs[0]!.msgId]));
    expect(mine.replyTo).toBe(theirs[0]!.msgId);
    await waitFor('bob has it', () => bob.messages.length === 1);
    expect(bob.messages[0]!.replyTo).toBe(theirs[0]!.msgId);
    bob.engine.markRead('ana@CIC', [bob.messages[0]!.msgId]);
    await waitFor('read event', () => (events.delivery ?? []).some((m) => m.msgId === mine.msgId && m.delivery === 'read'));
    const history = (await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC']))).messages;
    expect(history.find((m) => m.msgId === mine.msgId)).toMatchObject({ delivery: 'read', replyTo: theirs[0]!.msgId });

    await ok(service.dispatch('updateSettings', [{ readReceipts: false }]));
    await ok(service.dispatch('markAllRead', []));
    expect(service.totalUnread()).toBe(0);
    const later = await ok<ChatMessage>(service.dispatch('sendDirect', ['bob@CIC', 'depois']));
    await waitFor('bob has the later one', () => bob.messages.length === 2);
    expect(state(theirs[2]!.msgId)).toBe('delivered');
    bob.engine.markRead('ana@CIC', [bob.messages[1]!.msgId]);
    bob.engine.sendDirect('ana@CIC', 'li');
    await waitFor('bob wrote again', () => (events.message ?? []).some((m) => m.text === 'li'));
    expect((events.delivery ?? []).filter((m) => m.msgId === later.msgId).map((m) => m.delivery)).not.toContain('read');
  });

  it('typing: the peer of a DM sees it, a channel sends nothing, and its own typing shows as an event', async () => {
    const { service, bob, events } = await started();
    const seen = nextEvent(bob.engine, 'typing', (t) => t.peerId === 'ana@CIC' && t.typing);
    await ok(service.dispatch('typing', ['dm:bob@CIC']));
    await seen;
    await ok(service.dispatch('typing', ['#CIC']));
    bob.engine.typing('ana@CIC');
    await waitFor('typing event', () => (events.typing ?? []).some((t) => t.conversationId === 'dm:bob@CIC' && t.typing));
    bob.engine.sendDirect('ana@CIC', 'pronto');
    await waitFor('typing ended', () => (events.typing ?? []).some((t) => t.conversationId === 'dm:bob@CIC' && !t.typing));
  });

  it('mark all read, deleting one message, and sending a cancelled DM again', async () => {
    const { service, bob, events } = await started();
    bob.engine.sendDirect('ana@CIC', 'um');
    bob.engine.publish('#CIC', 'dois');
    await waitFor('both unread', () => service.totalUnread() === 2);
    await ok(service.dispatch('markAllRead', []));
    expect(service.totalUnread()).toBe(0);

    const [one] = (await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC']))).messages;
    expect(await refusal(service.dispatch('deleteMessage', ['#CIC', one!.seq]))).toMatch(/^invalid-request: no such message in this conversation/);
    await ok(service.dispatch('deleteMessage', ['dm:bob@CIC', one!.seq]));
    expect((await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC']))).messages).toEqual([]);
    await waitFor('the preview is gone', () => (events.conversations ?? []).at(-1)?.find((c) => c.id === 'dm:bob@CIC')?.last === undefined);

    const waiting = await ok<ChatMessage>(service.dispatch('sendDirect', ['carol@CIC', 'volta?']));
    expect(await refusal(service.dispatch('resend', [waiting.msgId]))).toMatch(/^not-waiting: only a cancelled direct message/);
    await ok(service.dispatch('cancel', [waiting.msgId]));
    const again = await ok<ChatMessage>(service.dispatch('resend', [waiting.msgId]));
    expect(again).toMatchObject({ conversationId: 'dm:carol@CIC', text: 'volta?', delivery: 'queued' });
    expect(again.msgId).not.toBe(waiting.msgId);
    const page = (await ok<HistoryPage>(service.dispatch('history', ['dm:carol@CIC']))).messages;
    expect(page.map((m) => [m.msgId, m.delivery])).toEqual([[again.msgId, 'queued']]);
    // Deleting a waiting DM takes it out of the outbox: carol, arriving later, never gets it.
    await ok(service.dispatch('deleteMessage', ['dm:carol@CIC', again.seq]));
    const carol = await startEngine(rdv.port, 'carol', 'CIC');
    await waitFor('carol connected', () => carol.peer('ana@CIC')?.state === 'open');
    const check = await ok<ChatMessage>(service.dispatch('sendDirect', ['carol@CIC', 'depois']));
    await waitFor('the later DM arrives', () => carol.messages.some((m) => m.msgId === check.msgId));
    expect(carol.messages.map((m) => m.text)).toEqual(['depois']);
  });

  it('mutes a chat for an hour, eight hours or always, and do-not-disturb silences every chat', async () => {
    const { service, bob, events } = await started();
    bob.engine.sendDirect('ana@CIC', 'oi');
    await waitFor('bob in the list', () => (events.message ?? []).length === 1);
    const notify = () => Object.fromEntries(((events.conversations ?? []).at(-1) ?? []).map((c) => [c.id, c.notify]));
    const before = Date.now();
    const settings = await ok<Settings>(service.dispatch('mute', ['dm:bob@CIC', '1h']));
    const until = settings.muted['dm:bob@CIC'] as number;
    expect(until).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 3_600_000);
    await waitFor('bob muted in the list', () => notify()['dm:bob@CIC'] === false);
    expect((await ok<Settings>(service.dispatch('mute', ['#CIC', 'always']))).muted).toMatchObject({ '#CIC': 'always', 'dm:bob@CIC': until });
    expect((await ok<Settings>(service.dispatch('mute', ['dm:bob@CIC', 'off']))).muted).toEqual({ '#CIC': 'always' });
    await waitFor('bob notifies again', () => notify()['dm:bob@CIC'] === true);
    await ok(service.dispatch('updateSettings', [{ doNotDisturb: true }]));
    await waitFor('nothing notifies', () => notify()['dm:bob@CIC'] === false);
    // Saved: a restarted service keeps them.
    await service.stop();
    expect(newService().settings).toMatchObject({ doNotDisturb: true, muted: { '#CIC': 'always' } });
  });

  it('keeps a draft per conversation across a restart, lists its chat, and forgets it when cleared', async () => {
    const first = newService();
    await ok(first.dispatch('startProfile', [profile()]));
    await ok(first.dispatch('setDraft', ['dm:zed@CIC', 'meio escrito']));
    await ok(first.dispatch('setDraft', ['#CIC', 'para a sala']));
    await first.stop();

    const again = newService();
    await again.start();
    const drafts = (s: Snapshot) => Object.fromEntries(s.conversations.filter((c) => c.draft).map((c) => [c.id, c.draft]));
    expect(drafts(await ok<Snapshot>(again.dispatch('getSnapshot', [])))).toEqual({ 'dm:zed@CIC': 'meio escrito', '#CIC': 'para a sala' });
    await ok(again.dispatch('setDraft', ['dm:zed@CIC', '']));
    expect(drafts(await ok<Snapshot>(again.dispatch('getSnapshot', [])))).toEqual({ '#CIC': 'para a sala' });
  });

  it('PUBs land in the broadcast and namespace channels, and ours reach the peer', async () => {
    const { service, bob, events } = await started();
    bob.engine.publish('*', 'to everyone');
    bob.engine.publish('#CIC', 'to CIC');
    await waitFor('both PUBs', () => (events.message ?? []).length === 2);
    expect((events.message ?? []).map((m) => [m.conversationId, m.kind, m.from, m.text])).toEqual([
      ['*', 'pub', 'bob@CIC', 'to everyone'],
      ['#CIC', 'pub', 'bob@CIC', 'to CIC'],
    ]);
    const mine = await ok<ChatMessage>(service.dispatch('publish', ['*', 'hello all']));
    expect(mine).toMatchObject({ conversationId: '*', delivery: 'sent', recipients: 1 });
    await waitFor('bob got our PUB', () => bob.messages.some((m) => m.kind === 'pub' && m.text === 'hello all'));
  });

  it('a DM to someone away waits in the outbox, counted per peer, until the user cancels it', async () => {
    const { service, events } = await started();
    const waiting = await ok<ChatMessage>(service.dispatch('sendDirect', ['nobody@CIC', 'anyone?']));
    await waitFor('parked with its reason', () =>
      (events.delivery ?? []).some((m) => m.msgId === waiting.msgId && m.delivery === 'queued' && m.error === 'nobody@CIC is not registered on the rendezvous server'),
    );
    await waitFor('queued count', () => (events.conversations ?? []).at(-1)?.find((c) => c.id === 'dm:nobody@CIC')?.queued === 1);
    expect(await refusal(service.dispatch('retry', ['no-such-id']))).toMatch(/^not-waiting: only a message that is still waiting/);
    expect((await ok<ChatMessage>(service.dispatch('retry', [waiting.msgId]))).msgId).toBe(waiting.msgId);
    const cancelled = await ok<ChatMessage>(service.dispatch('cancel', [waiting.msgId]));
    expect(cancelled).toMatchObject({ msgId: waiting.msgId, delivery: 'cancelled' });
    expect(await refusal(service.dispatch('cancel', [waiting.msgId]))).toMatch(/^not-waiting: only a message that is still waiting/);
    await waitFor('nothing queued', () => (events.conversations ?? []).at(-1)?.find((c) => c.id === 'dm:nobody@CIC')?.queued === 0);
    const history = (await ok<HistoryPage>(service.dispatch('history', ['dm:nobody@CIC']))).messages;
    expect(history.map((m) => [m.msgId, m.delivery])).toEqual([[waiting.msgId, 'cancelled']]);
  });

  it('a peer we chatted with stays listed as offline after it leaves', async () => {
    const { service, bob, events } = await started();
    bob.engine.sendDirect('ana@CIC', 'bye for now');
    await waitFor('message', () => (events.message ?? []).length === 1);
    await bob.engine.stop();
    // An on-demand DISCOVER right after another reuses its answer: ask until the list has changed.
    while ((events.peer ?? []).at(-1)?.state !== 'offline') {
      await ok(service.dispatch('discover', []));
      await new Promise((r) => setTimeout(r, 250));
    }
    const { peers } = await ok<Snapshot>(service.dispatch('getSnapshot', []));
    expect(peers).toEqual([expect.objectContaining({ peerId: 'bob@CIC', state: 'offline', namespace: 'CIC' })]);
  });
});

describe('ChatService: history that outlives the app', () => {
  it('a restarted service shows the same conversations, unread counts and waiting DMs', async () => {
    const first = await started();
    const delivered = await ok<ChatMessage>(first.service.dispatch('sendDirect', ['bob@CIC', 'primeira']));
    await waitFor('delivered', () => (first.events.delivery ?? []).some((m) => m.msgId === delivered.msgId && m.delivery === 'delivered'));
    first.bob.engine.sendDirect('ana@CIC', 'resposta do bob');
    await waitFor('reply unread', () => first.service.totalUnread() === 1);
    const waiting = await ok<ChatMessage>(first.service.dispatch('sendDirect', ['carol@CIC', 'quando voltar']));
    await waitFor('parked', () => (first.events.delivery ?? []).some((m) => m.msgId === waiting.msgId && m.error !== undefined));
    await first.service.stop();
    expect(existsSync(historyPath(dir, 'ana@CIC'))).toBe(true);

    const again = newService();
    await again.start();
    const snapshot = await ok<Snapshot>(again.dispatch('getSnapshot', []));
    const byId = Object.fromEntries(snapshot.conversations.map((c) => [c.id, [c.unread, c.queued, c.last?.text]]));
    expect(byId).toMatchObject({ 'dm:bob@CIC': [1, 0, 'resposta do bob'], 'dm:carol@CIC': [0, 1, 'quando voltar'] });
    expect(again.totalUnread()).toBe(1);
    expect(snapshot.peers.find((p) => p.peerId === 'carol@CIC')?.state).toBe('offline');
    const page = await ok<HistoryPage>(again.dispatch('history', ['dm:bob@CIC']));
    expect(page.messages.map((m) => [m.text, m.delivery])).toEqual([
      ['primeira', 'delivered'],
      ['resposta do bob', undefined],
    ]);

    // carol shows up: the DM from the last run reaches her, with its msg_id.
    const carol = await startEngine(rdv.port, 'carol', 'CIC');
    await waitFor('carol got it', () => carol.messages.some((m) => m.msgId === waiting.msgId && m.text === 'quando voltar'));
    await ok(again.dispatch('markRead', ['dm:bob@CIC']));
    expect(again.totalUnread()).toBe(0);
  });

  it('searches every conversation, exports one as text or JSON, and deletes one', async () => {
    const { service, bob, events } = await started();
    bob.engine.sendDirect('ana@CIC', 'O João chega amanhã\ncom o bolo');
    bob.engine.publish('#CIC', 'joão na sala');
    await waitFor('both arrived', () => (events.message ?? []).length === 2);

    const hits = await ok<SearchResult[]>(service.dispatch('search', ['joao']));
    expect(hits.map((h) => [h.conversationId, h.message.text])).toEqual([
      ['#CIC', 'joão na sala'],
      ['dm:bob@CIC', 'O João chega amanhã\ncom o bolo'],
    ]);
    expect(hits[0]!.parts).toEqual([
      { text: 'joão', match: true },
      { text: ' na sala', match: false },
    ]);
    const around = await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC', { around: hits[1]!.message.seq }]));
    expect(around.messages.map((m) => m.seq)).toContain(hits[1]!.message.seq);

    const text = await ok<ExportedConversation>(service.dispatch('exportConversation', ['dm:bob@CIC', 'text']));
    expect(text.fileName).toMatch(/^chatp2p-bob@CIC-\d{4}-\d{2}-\d{2}\.txt$/);
    expect(text.content).toMatch(/^ChatP2P: bob@CIC, seen by ana@CIC, exported /);
    expect(text.content).toMatch(/\n\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} {2}bob@CIC: O João chega amanhã\n {4}com o bolo\n$/);
    const json = await ok<ExportedConversation>(service.dispatch('exportConversation', ['dm:bob@CIC', 'json']));
    expect(JSON.parse(json.content)).toMatchObject({ conversationId: 'dm:bob@CIC', localPeerId: 'ana@CIC', messages: [{ from: 'bob@CIC', text: 'O João chega amanhã\ncom o bolo' }] });

    await ok(service.dispatch('deleteConversation', ['dm:bob@CIC']));
    await waitFor('gone from the list', () => !(events.conversations ?? []).at(-1)!.some((c) => c.id === 'dm:bob@CIC'));
    expect((await ok<SearchResult[]>(service.dispatch('search', ['joao']))).map((h) => h.conversationId)).toEqual(['#CIC']);
    expect((await ok<HistoryPage>(service.dispatch('history', ['dm:bob@CIC']))).messages).toEqual([]);
  });

  it('refuses a history file that is not ours, says how to go on, and leaves the file alone', async () => {
    const path = historyPath(dir, 'ana@CIC');
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'not a database, but precious to someone');
    const service = newService();
    const reason = await refusal(service.dispatch('startProfile', [profile()]));
    expect(reason).toMatch(/^history-unavailable: cannot open message history file .*history\.sqlite: /);
    expect(readFileSync(path, 'utf8')).toBe('not a database, but precious to someone');
  });
});

describe('ChatService: everything from the renderer is checked', () => {
  it('refuses bad commands and arguments with a clear reason, and keeps working', async () => {
    const { service, bob } = await started();
    const cases: [unknown, unknown, RegExp][] = [
      ['rm -rf', [], /^invalid-request: unknown command/],
      ['getSnapshot', 'not a list', /arguments must be a list/],
      ['sendDirect', ['bob', 'oi'], /name@namespace/],
      ['sendDirect', ['bob@CIC', 42], /must be text/],
      ['sendDirect', ['bob@CIC', '   \n'], /the message is empty/],
      ['sendDirect', ['bob@CIC', 'é'.repeat(16_000)], /^message-too-long: .*too long: 32000 bytes, the limit is 30720/],
      ['sendDirect', ['bob@CIC', 'x'.repeat(1_000_000)], /^message-too-long: .*too long: over 30720 bytes/],
      ['sendDirect', ['ana@CIC', 'me?'], /^own-peer-id: .*our own peer_id/],
      ['sendDirect', ['bob@CIC', 'oi', 7], /^invalid-request: unknown message/],
      ['sendDirect', ['bob@CIC', 'oi', 'x'.repeat(129)], /^invalid-request: unknown message/],
      ['typing', ['bob@CIC'], /^invalid-request: unknown conversation/],
      ['typing', [], /^invalid-request: unknown conversation/],
      ['updateSettings', [{ readReceipts: 'no' }], /^invalid-request: readReceipts must be true or false/],
      ['publish', ['CIC', 'oi'], /publish to \* or #namespace/],
      ['publish', ['#has space', 'oi'], /publish to \* or #namespace/],
      ['history', ['../etc'], /unknown conversation/],
      ['history', ['*', { before: -1 }], /before must be a message's seq/],
      ['history', ['*', { limit: 100_000 }], /limit must be 1 to 500/],
      ['history', ['*', { before: 5, around: 9 }], /not several/],
      ['history', ['*', { where: 'x' }], /unknown history option/],
      ['search', [{ $regex: '.*' }], /search for text/],
      ['search', ['x'.repeat(201)], /at most 200 characters/],
      ['exportConversation', ['*', 'pdf'], /export as text or json/],
      ['deleteConversation', ['bob@CIC'], /unknown conversation/],
      ['cancel', [7], /unknown message/],
      ['markRead', [{}], /unknown conversation/],
      ['markRead', ['*', 0], /upTo must be a message's seq/],
      ['markRead', ['*', 1.5], /upTo must be a message's seq/],
      ['setDraft', ['bob@CIC', 'x'], /unknown conversation/],
      ['setDraft', ['*', 7], /a draft is text/],
      ['setDraft', ['*', 'x'.repeat(40_000)], /^message-too-long: a draft is at most 30720 bytes/],
      ['deleteMessage', ['*', '3'], /the message must be a message's seq/],
      ['deleteMessage', ['*', 999], /^invalid-request: no such message in this conversation/],
      ['resend', [''], /unknown message/],
      ['mute', ['*', '2h'], /mute for 1h, 8h, always, or off/],
      ['mute', ['bob', '1h'], /unknown conversation/],
      ['updateSettings', [{ muted: { 'dm:bob@CIC': -5 } }], /muted: each chat is muted until a time/],
      ['updateSettings', [{ muted: { '../x': 'always' } }], /muted: unknown chat/],
      ['updateSettings', [{ doNotDisturb: 'yes' }], /doNotDisturb must be true or false/],
      ['resend', ['no-such-id'], /^not-waiting: only a cancelled direct message/],
      ['setLogLevel', ['LOUD'], /DEBUG, INFO, WARN, ERROR/],
      ['updateSettings', [{ theme: 'neon' }], /theme must be one of: system, light, dark/],
      ['updateSettings', [{ timers: { ackTimeoutS: 0 } }], /ackTimeoutS must be a whole number from 1 to 120/],
      ['updateSettings', [{ profile: profile() }], /unknown setting "profile"/],
      ['updateSettings', [{ notifyChannels: ['dm:bob@CIC'] }], /notifyChannels/],
      ['reconnect', ['ghost@CIC'], /^unknown-peer: unknown peer ghost@CIC/],
      ['openLink', ['javascript:alert(1)'], /^link-refused: only http and https/],
      ['openLink', ['file:///etc/passwd'], /^link-refused: only http and https/],
    ];
    for (const [command, args, reason] of cases) {
      expect(await refusal(service.dispatch(command, args)), `${String(command)} ${JSON.stringify(args).slice(0, 60)}`).toMatch(reason);
    }
    expect(bob.messages).toEqual([]);
    await ok(service.dispatch('openLink', ['https://example.org/a b']));
    expect(opened).toEqual(['https://example.org/a%20b']);
    const sent = await ok<ChatMessage>(service.dispatch('sendDirect', ['bob@CIC', 'still here']));
    await waitFor('delivered after all that', () => bob.messages.some((m) => m.msgId === sent.msgId));
  });
});
