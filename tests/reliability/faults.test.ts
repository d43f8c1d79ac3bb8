// Faults rather than foes: the rendezvous server restarts under running peers, a peer's process is
// killed without BYE, the network drops a connection in the middle of a frame. In each, what the
// user sees must come out right: connections carry on, messages arrive once, nobody is lost.
// (A peer that leaves with BYE and comes back is in tests/engine/engines.test.ts; a restarted
// server seen by one RendezvousSession is in tests/engine/rendezvous-session.test.ts.)

import type { Socket } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { spawnEngine, type EngineProcess } from '../helpers/engine-child.ts';
import { CuttingProxy } from '../helpers/hostile.ts';
import { ScriptedPeer, nextEvent, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { register, startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
const cleanup: (() => Promise<unknown> | void)[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
});
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
  await stopEngines();
  await rdv.close();
});

const open = (t: TestEngine, peerId: string) => t.peer(peerId)?.state === 'open';

/**
 * Stops the server between two requests, then starts it again on the same port with no records.
 * (A request cut by the stop would look like the rate limit's drop, which the engine rightly backs
 * off from for a minute: that is not what this test is about.)
 */
async function restartEmpty(): Promise<void> {
  await waitFor('no request in flight', () => rdv.connections === 0, 8_000);
  const port = rdv.port;
  await rdv.close();
  rdv = await startTestServer({ port });
  expect(rdv.registrations).toBe(0);
}

it('peers carry on when the rendezvous server restarts without its records, and are found again', async () => {
  const alice = await startEngine(rdv.port, 'alice', 'CIC');
  const bob = await startEngine(rdv.port, 'bob', 'CIC');
  await waitFor('connected', () => open(alice, 'bob@CIC') && open(bob, 'alice@CIC'));

  await restartEmpty();
  const during = alice.engine.sendDirect('bob@CIC', 'while the server restarts');
  await nextEvent(alice.engine, 'delivery', (d) => d.msgId === during.msgId && d.state === 'delivered');
  await waitFor('registered again', () => rdv.registrations >= 1);
  expect([...alice.logs, ...bob.logs]).toContain('WARN [Rendezvous] DISCOVER: the rendezvous server no longer has our registration; registering again');
  expect(open(alice, 'bob@CIC') && open(bob, 'alice@CIC')).toBe(true);

  // A newcomer finds them through the restarted server (or they find it) and talks to both.
  const carol = await startEngine(rdv.port, 'carol', 'CIC');
  await waitFor('carol connected to both', () => open(carol, 'alice@CIC') && open(carol, 'bob@CIC'));
  const after = bob.engine.sendDirect('carol@CIC', 'after the restart');
  await nextEvent(bob.engine, 'delivery', (d) => d.msgId === after.msgId && d.state === 'delivered');
  expect(bob.messages.map((m) => m.text)).toEqual(['while the server restarts']);
  expect(carol.messages.map((m) => m.text)).toEqual(['after the restart']);
});

// The server answers DISCOVER for any registered peer of the caller's IP, so once one peer of an
// IP (a NAT, one machine) has registered again, DISCOVER succeeds for the others too: each must
// notice its own record missing from the list, or stay invisible until its TTL renewal.
it('every peer of one IP registers again after the server restarts without its records', async () => {
  const alice = await startEngine(rdv.port, 'alice', 'CIC');
  // bob DISCOVERs only when asked, so that its first DISCOVER after the restart comes after alice's.
  const bob = await startEngine(rdv.port, 'bob', 'CIC', { rendezvous: { discoverIntervalMs: 60_000 } });
  await waitFor('connected', () => open(alice, 'bob@CIC') && open(bob, 'alice@CIC'));
  await restartEmpty();
  await waitFor('alice registered again', () => rdv.registrations === 1);
  await new Promise((r) => setTimeout(r, 1_100)); // past the gap within which a DISCOVER is reused
  await bob.engine.discover();
  await waitFor('bob registered again', () => rdv.registrations === 2, 1_500);
});

it('notices a peer killed without BYE, and delivers what was sent meanwhile once it is back', async () => {
  const alice = await startEngine(rdv.port, 'alice', 'CIC', { peerConnection: { maxReconnectAttempts: 1000 } });
  let bob: EngineProcess = await spawnEngine(rdv.port, 'bob', 'CIC');
  cleanup.push(() => bob.kill());
  await waitFor('connected', () => open(alice, 'bob@CIC'));

  await bob.kill();
  await waitFor('the loss noticed', () => !open(alice, 'bob@CIC'));
  expect(alice.logs.some((l) => l.startsWith('INFO [Peers] Connection with bob@CIC closed:') && !l.includes('left'))).toBe(true);
  expect(alice.logs.some((l) => l.includes('bob@CIC said BYE'))).toBe(false);
  const meanwhile = alice.engine.sendDirect('bob@CIC', 'are you back?');

  bob = await spawnEngine(rdv.port, 'bob', 'CIC', bob.port);
  await nextEvent(alice.engine, 'delivery', (d) => d.msgId === meanwhile.msgId && d.state === 'delivered', 15_000);
  await waitFor('bob shows it', () => bob.messages.includes('are you back?'));
  expect(bob.messages).toEqual(['are you back?']);
  expect(open(alice, 'bob@CIC')).toBe(true);
});

it('loses nothing and shows nothing twice when the network drops a connection mid-frame, either way', async () => {
  // bob@CIC is registered at the proxy's port: every connection between the two goes through it.
  const bob = new ScriptedPeer({ peerId: 'bob@CIC', features: ['ack', 'chatp2p-pipeline'] });
  cleanup.push(() => bob.close());
  await bob.listen();
  const proxy = new CuttingProxy(bob.port);
  cleanup.push(() => proxy.close());
  await register(rdv.port, 'bob', 'CIC', await proxy.listen());
  const alice = await startEngine(rdv.port, 'alice', 'CIC');
  await waitFor('connected through the proxy', () => open(alice, 'bob@CIC'));

  // Ours: half a SEND reaches bob, then the connection is gone. It goes again, same msg_id.
  proxy.cutNext('cut me', 'toTarget');
  const sent = alice.engine.sendDirect('bob@CIC', 'cut me in half');
  const delivered = await nextEvent(alice.engine, 'delivery', (d) => d.msgId === sent.msgId && d.state === 'delivered', 15_000);
  expect(proxy.cuts).toBe(1);
  expect(delivered.attempts).toBe(2);
  expect(bob.of('SEND').map((f) => [f.msg_id, f.payload])).toEqual([[sent.msgId, 'cut me in half']]);

  // Theirs: half a SEND reaches us. Nothing is shown, nothing counts as a bad frame; bob sends it
  // again on the new connection and it is shown once.
  await waitFor('connected again', () => open(alice, 'bob@CIC') && bob.sockets.size === 1);
  proxy.cutNext('halfway', 'toClient');
  const frame = { type: 'SEND', msg_id: 'theirs-1', src: 'bob@CIC', dst: 'alice@CIC', payload: 'halfway there', require_ack: true, ttl: 1 };
  const first = [...bob.sockets][0] as Socket;
  bob.write(first, frame);
  await new Promise((resolve) => first.once('close', resolve));
  await waitFor('connected once more', () => open(alice, 'bob@CIC') && bob.sockets.size === 1);
  expect(alice.messages).toEqual([]);
  bob.write([...bob.sockets][0]!, frame);
  await waitFor('ACKed', () => bob.of('ACK').some((a) => a.msg_id === 'theirs-1'));
  expect(proxy.cuts).toBe(2);
  expect(alice.messages.map((m) => [m.msgId, m.text])).toEqual([['theirs-1', 'halfway there']]);
  expect(alice.engine.status().counters.invalidFrames).toBe(0);
});
