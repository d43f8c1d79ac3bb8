// The durable outbox and de-duplication with real engines, real history files and real sockets on
// 127.0.0.1: DMs to someone away wait (across restarts) and arrive once when they are back.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMessageStore, type SqliteMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { ScriptedPeer, nextEvent, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
let dir: string;
const stores: SqliteMessageStore[] = [];
const scripted: ScriptedPeer[] = [];

beforeEach(async () => {
  rdv = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'chatp2p-outbox-'));
});

afterEach(async () => {
  await stopEngines();
  await Promise.all(scripted.splice(0).map((p) => p.close()));
  for (const s of stores.splice(0)) s.close();
  await rdv.close();
  rmSync(dir, { recursive: true, force: true });
});

function history(name: string): SqliteMessageStore {
  const store = openMessageStore(join(dir, `${name}.sqlite`));
  stores.push(store);
  return store;
}

/** Stops the engine and closes its history, as quitting the app does; the file stays. */
async function quit(t: TestEngine, store: SqliteMessageStore): Promise<void> {
  await t.engine.stop();
  store.close();
}

const lastState = (t: TestEngine, msgId: string) => t.deliveries.filter((d) => d.msgId === msgId).at(-1);

describe('the durable outbox', () => {
  it('keeps DMs to an absent peer through a restart and delivers each once when the peer comes', async () => {
    let store = history('ana');
    let ana = await startEngine(rdv.port, 'ana', 'CIC', {}, store);
    const sent = ['um', 'dois', 'três'].map((text) => ana.engine.sendDirect('bob@CIC', text));
    await waitFor('parked: bob is not registered', () => sent.every((m) => lastState(ana, m.msgId)?.error === 'bob@CIC is not registered on the rendezvous server'));
    await quit(ana, store);

    store = history('ana');
    expect(store.pendingOutgoing().map((m) => m.text)).toEqual(['um', 'dois', 'três']);
    ana = await startEngine(rdv.port, 'ana', 'CIC', {}, store);
    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    await waitFor('bob got all three', () => bob.messages.length === 3);
    expect(bob.messages.map((m) => [m.msgId, m.text])).toEqual(sent.map((m) => [m.msgId, m.text]));
    await waitFor('delivered on ana', () => sent.every((m) => lastState(ana, m.msgId)?.state === 'delivered'));
    expect(store.pendingOutgoing()).toEqual([]);
    expect(store.conversations().find((c) => c.key === 'dm:bob@CIC')?.queued).toBe(0);
  });

  it('sends a parked DM when the peer comes back while we run, and not a cancelled one', async () => {
    const ana = await startEngine(rdv.port, 'ana', 'CIC', {}, history('ana'));
    const keep = ana.engine.sendDirect('bob@CIC', 'keep');
    const drop = ana.engine.sendDirect('bob@CIC', 'drop');
    await waitFor('both parked', () => [keep, drop].every((m) => lastState(ana, m.msgId)?.error !== undefined));
    expect(ana.engine.cancel(drop.msgId)).toMatchObject({ msgId: drop.msgId, state: 'cancelled' });
    expect(() => ana.engine.cancel(drop.msgId)).toThrow('only a message that is still waiting can be cancelled');

    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    await nextEvent(ana.engine, 'delivery', (d) => d.msgId === keep.msgId && d.state === 'delivered');
    await bob.engine.whenIdle();
    expect(bob.messages.map((m) => m.text)).toEqual(['keep']);
    expect(lastState(ana, drop.msgId)?.state).toBe('cancelled');
  });
});

describe('whose outbox', () => {
  it('refuses to run a profile on the history of another peer_id, so its DMs never go out under the wrong name', async () => {
    const store = history('ana');
    const ana = await startEngine(rdv.port, 'ana', 'CIC', {}, store);
    ana.engine.sendDirect('bob@CIC', 'from ana');
    await quit(ana, store);

    const reopened = history('ana');
    await expect(startEngine(rdv.port, 'carol', 'CIC', {}, reopened)).rejects.toThrow('this history belongs to ana@CIC, not carol@CIC');
    expect(reopened.pendingOutgoing().map((m) => m.text)).toEqual(['from ana']);
  });
});

describe('de-duplication', () => {
  it('ACKs a SEND retried after the receiver restarted, and shows it only the first time', async () => {
    let store = history('bob');
    let bob = await startEngine(rdv.port, 'bob', 'CIC', {}, store);
    const carol = new ScriptedPeer({ peerId: 'carol@CIC' });
    scripted.push(carol);
    const send = { type: 'SEND', msg_id: 'carol-1', src: 'carol@CIC', dst: 'bob@CIC', payload: 'só uma vez', require_ack: true, ttl: 1 };

    let socket = await carol.dial(bob.engine.status().listen.port);
    await waitFor('HELLO_OK', () => carol.of('HELLO_OK').length === 1);
    carol.write(socket, send);
    await waitFor('first ACK', () => carol.of('ACK').length === 1);
    expect(bob.messages.map((m) => m.text)).toEqual(['só uma vez']);
    carol.kill();
    await quit(bob, store);

    store = history('bob');
    bob = await startEngine(rdv.port, 'bob', 'CIC', {}, store);
    socket = await carol.dial(bob.engine.status().listen.port);
    await waitFor('HELLO_OK again', () => carol.of('HELLO_OK').length === 2);
    carol.write(socket, send);
    await waitFor('second ACK', () => carol.of('ACK').length === 2);
    expect(carol.of('ACK').map((f) => f.msg_id)).toEqual(['carol-1', 'carol-1']);
    expect(bob.messages).toEqual([]);
    expect(bob.engine.status().counters.duplicates).toBe(1);
    expect(store.page('dm:carol@CIC', { limit: 10 }).messages.map((m) => m.text)).toEqual(['só uma vez']);
  });
});
