// chatp2p-receipts on the wire, between real engines on 127.0.0.1: read receipts move our DM to
// `read` (kept in the history), the off switch, "typing…" and its end, `reply_to`; sealed on a
// secure session; and a course client (plain or echoing our HELLO) that never gets any of it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TYPING_EXPIRES_MS } from '../../src-main/engine/extensions/receipts.ts';
import { openMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { ScriptedPeer, nextEvent, startEngine, stopEngines, waitFor, type Frame, type TestEngine } from '../helpers/peers.ts';
import { register, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { LineProxy } from '../secure/proxy.ts';
import { startSecureEngine, stopSecureEngines } from '../secure/helpers.ts';

// Rendezvous servers, proxies, peers and folders a test started, stopped after its engines.
const started: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  await Promise.all([stopEngines(), stopSecureEngines()]);
  while (started.length > 0) await started.pop()!.close();
});

const server = async (): Promise<TestServer> => {
  const rdv = await startTestServer();
  started.push(rdv);
  return rdv;
};

async function pair(): Promise<{ alice: TestEngine; bob: TestEngine }> {
  const rdv = await server();
  const alice = await startEngine(rdv.port, 'alice', 'CIC');
  const bob = await startEngine(rdv.port, 'bob', 'CIC');
  await waitFor('alice and bob connected', () => alice.peer('bob@CIC')?.state === 'open' && bob.peer('alice@CIC')?.state === 'open');
  return { alice, bob };
}

const stateOf = (t: TestEngine, msgId: string) => t.deliveries.filter((d) => d.msgId === msgId).at(-1)?.state;

describe('chatp2p-receipts between two ChatP2P engines', () => {
  it('a DM the peer read turns read, and stays read in the history after a restart', async () => {
    const rdv = await server();
    const dir = await mkdtemp(join(tmpdir(), 'chatp2p-receipts-'));
    started.push({ close: () => rm(dir, { recursive: true, force: true }) });
    const store = openMessageStore(join(dir, 'bob.sqlite'));
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    const bob = await startEngine(rdv.port, 'bob', 'CIC', {}, store);
    const sent = bob.engine.sendDirect('alice@CIC', 'leste?');
    await waitFor('delivered', () => stateOf(bob, sent.msgId) === 'delivered');
    expect(alice.messages.map((m) => m.text)).toEqual(['leste?']);
    alice.engine.markRead('bob@CIC', [alice.messages[0]!.msgId]);
    await waitFor('read', () => stateOf(bob, sent.msgId) === 'read');
    await bob.engine.stop();
    store.close();
    const reopened = openMessageStore(join(dir, 'bob.sqlite'));
    expect(reopened.outgoing(sent.msgId)?.state).toBe('read');
    expect(reopened.pendingOutgoing()).toEqual([]);
    reopened.close();
  });

  it('off on the reader: it sends none; off on the sender: it shows none', async () => {
    const { alice, bob } = await pair();
    alice.engine.setReadReceipts(false);
    const first = bob.engine.sendDirect('alice@CIC', 'um');
    await waitFor('alice has it', () => alice.messages.length === 1);
    alice.engine.markRead('bob@CIC', [alice.messages[0]!.msgId]);
    // Alice's next DM shows her line is free again: a receipt would have gone before it.
    alice.engine.sendDirect('bob@CIC', 'depois');
    await waitFor('bob has her DM', () => bob.messages.length === 1);
    expect(stateOf(bob, first.msgId)).toBe('delivered');

    alice.engine.setReadReceipts(true);
    bob.engine.setReadReceipts(false);
    alice.engine.markRead('bob@CIC', [alice.messages[0]!.msgId]);
    alice.engine.sendDirect('bob@CIC', 'e agora');
    await waitFor('bob has her second DM', () => bob.messages.length === 2);
    expect(stateOf(bob, first.msgId)).toBe('delivered');
    expect(bob.logs.some((l) => l.includes('Read receipts off'))).toBe(true);
  });

  it('"typing…" shows, ends with their message, and expires by itself', async () => {
    const { alice, bob } = await pair();
    const started = nextEvent(bob.engine, 'typing', (t) => t.peerId === 'alice@CIC' && t.typing);
    alice.engine.typing('bob@CIC');
    await started;
    const ended = nextEvent(bob.engine, 'typing', (t) => t.peerId === 'alice@CIC' && !t.typing);
    alice.engine.sendDirect('bob@CIC', 'pronto');
    await ended;
    expect(bob.messages.map((m) => m.text)).toEqual(['pronto']);

    // Right after a send the next key says it again; then nothing renews it.
    const again = nextEvent(bob.engine, 'typing', (t) => t.typing);
    alice.engine.typing('bob@CIC');
    const at = Date.now();
    await again;
    await nextEvent(bob.engine, 'typing', (t) => !t.typing, TYPING_EXPIRES_MS + 3_000);
    expect(Date.now() - at).toBeGreaterThanOrEqual(TYPING_EXPIRES_MS - 500);
  });

  it('a reply carries reply_to to a ChatP2P peer, kept on both sides', async () => {
    const { alice, bob } = await pair();
    const question = bob.engine.sendDirect('alice@CIC', 'cinema hoje?');
    await waitFor('alice has it', () => alice.messages.length === 1);
    const answer = alice.engine.sendDirect('bob@CIC', '> bob@CIC: cinema hoje?\nsim!', question.msgId);
    expect(answer.replyTo).toBe(question.msgId);
    await waitFor('bob has the reply', () => bob.messages.length === 1);
    expect(bob.messages[0]).toMatchObject({ text: '> bob@CIC: cinema hoje?\nsim!', replyTo: question.msgId });
  });

  it('on a secure session every receipts frame is sealed', async () => {
    const [rdv, bobsRdv] = [await server(), await server()];
    const bob = await startSecureEngine(bobsRdv.port, 'bob');
    const proxy = new LineProxy(bob.engine.status().listen.port);
    await proxy.listen();
    started.push(proxy);
    await register(rdv.port, 'bob', 'CIC', proxy.port);
    const alice = await startSecureEngine(rdv.port, 'alice');
    await waitFor('sealed', () => alice.security('bob@CIC') === 'encrypted' && bob.security('alice@CIC') === 'encrypted');
    const sent = bob.engine.sendDirect('alice@CIC', 'segredo');
    await waitFor('alice has it', () => alice.messages.length === 1);
    const typing = nextEvent(bob.engine, 'typing', (t) => t.typing);
    alice.engine.typing('bob@CIC');
    alice.engine.markRead('bob@CIC', [alice.messages[0]!.msgId]);
    await typing;
    await waitFor('read', () => bob.deliveries.some((d) => d.msgId === sent.msgId && d.state === 'read'));
    const clear = proxy.lines('toTarget').flat().concat(proxy.lines('toClient').flat()).join('\n');
    expect(clear).not.toContain('CHATP2P_');
    expect(clear).not.toContain(sent.msgId);
  });
});

/** A course client alice talks with: every frame it read, none of ours may be an extension's. */
async function legacyConversation(options: { echoHello?: boolean }): Promise<Frame[]> {
  const rdv = await server();
  const carol = new ScriptedPeer({ peerId: 'carol@CIC', ...options });
  await carol.listen();
  started.push(carol);
  await carol.register(rdv.port);
  const alice = await startEngine(rdv.port, 'alice', 'CIC');
  const first = alice.engine.sendDirect('carol@CIC', 'oi carol');
  await waitFor('delivered to carol', () => stateOf(alice, first.msgId) === 'delivered');
  const socket = [...carol.sockets][0]!;
  carol.write(socket, { type: 'SEND', msg_id: 'carol-1', src: 'carol@CIC', dst: 'alice@CIC', payload: 'oi alice', require_ack: true, ttl: 1 });
  await waitFor('alice has it', () => alice.messages.length === 1);
  // The user reads it, types, and replies to it.
  alice.engine.markRead('carol@CIC', ['carol-1']);
  alice.engine.typing('carol@CIC');
  const reply = alice.engine.sendDirect('carol@CIC', '> carol@CIC: oi alice\ntudo bem?', 'carol-1');
  // One frame at a time toward carol: once the reply is there, whatever went before it is too.
  await carol.nextFrame((f) => f.msg_id === reply.msgId);
  return carol.frames;
}

describe('chatp2p-receipts toward a course client', () => {
  for (const [what, options] of [
    ['without extensions', {}],
    ['that echoes our HELLO, chatp2p-receipts and all', { echoHello: true }],
  ] as const) {
    it(`${what}: no CHATP2P_* frame and no reply_to ever reaches it, and the quote stays in the text`, async () => {
      const frames = await legacyConversation(options);
      expect(frames.filter((f) => String(f.type).startsWith('CHATP2P_'))).toEqual([]);
      expect(frames.filter((f) => 'reply_to' in f)).toEqual([]);
      expect(frames.filter((f) => f.type === 'SEND').map((f) => f.payload)).toEqual(['oi carol', '> carol@CIC: oi alice\ntudo bem?']);
    });
  }
});
