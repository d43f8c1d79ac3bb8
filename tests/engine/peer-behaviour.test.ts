// The engine against hand-written peers that behave as PROTOCOL.md §4 says real ones do.

import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { ScriptedPeer, nextEvent, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';

let rdv: TestServer;
const peers: ScriptedPeer[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
});
afterEach(async () => {
  await stopEngines();
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await rdv.close();
});

/** A scripted peer registered with the rendezvous server, and an engine connected to it. */
async function engineWithPeer(options: ConstructorParameters<typeof ScriptedPeer>[0], engineName = 'alice') {
  const peer = new ScriptedPeer(options);
  peers.push(peer);
  await peer.listen();
  await peer.register(rdv.port);
  const t = await startEngine(rdv.port, engineName, 'CIC');
  await waitFor('connected to the scripted peer', () => t.peer(options.peerId)?.state === 'open');
  return { peer, t };
}

const socketOf = (peer: ScriptedPeer) => [...peer.sockets][0]!;

describe('toward course clients that keep only the first line of each read', () => {
  it.each([
    ['that answers HELLO plainly', {}],
    ['that echoes our HELLO, chatp2p-pipeline and all, as its HELLO_OK', { echoHello: true }],
  ])('sends one SEND at a time to one %s, so 500 back-to-back messages all arrive, in order', async (_, quirk) => {
    const { peer, t } = await engineWithPeer({ peerId: 'legacy@CIC', firstLineOnly: true, ...quirk });
    expect(t.peer('legacy@CIC')!.pipelined).toBe(false);
    const sent = Array.from({ length: 500 }, (_, i) => t.engine.sendDirect('legacy@CIC', `message ${i}`));
    await t.engine.whenIdle();
    expect(sent.map((m) => t.deliveries.filter((d) => d.msgId === m.msgId).at(-1)!.state)).toEqual(sent.map(() => 'delivered'));
    expect(peer.of('SEND').map((f) => f.payload)).toEqual(sent.map((_, i) => `message ${i}`));
  });

  it('ACKs a stop-and-wait sender at once, and it reads all 300 ACKs, in order', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'legacy@CIC', firstLineOnly: true });
    const s = socketOf(peer);
    for (let i = 0; i < 300; i++) {
      const acked = peer.nextFrame((f) => f.type === 'ACK' && f.msg_id === `saw-${i}`, 2_000);
      peer.write(s, { type: 'SEND', msg_id: `saw-${i}`, src: 'legacy@CIC', dst: 'alice@CIC', payload: `line ${i}`, require_ack: true, ttl: 1 });
      await acked;
    }
    expect(peer.of('ACK').map((f) => f.msg_id)).toEqual(Array.from({ length: 300 }, (_, i) => `saw-${i}`));
    expect(t.messages.map((m) => m.text)).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i}`));
  });

  it('spaces the ACKs of SENDs that came in one read, so a first-line reader loses none', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'legacy@CIC', firstLineOnly: true });
    const burst = Array.from({ length: 20 }, (_, i) => ({ type: 'SEND', msg_id: `b-${i}`, src: 'legacy@CIC', dst: 'alice@CIC', payload: `b ${i}`, require_ack: true, ttl: 1 }));
    const oneRead = burst.map((f) => JSON.stringify(f) + '\n').join('');
    socketOf(peer).write(oneRead);
    await waitFor('every ACK read', () => peer.of('ACK').length === 20);
    // Again, as retries: each is already stored, so its ACK is due at once, in the same read.
    socketOf(peer).write(oneRead);
    await waitFor('every ACK read again', () => peer.of('ACK').length === 40);
    expect(peer.of('ACK').map((f) => f.msg_id)).toEqual([...burst, ...burst].map((f) => f.msg_id));
    expect(t.messages).toHaveLength(20);
  });

  it('takes an echoed chatp2p-pipeline for no proof: 50 DMs at once arrive in order, none retried', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'echo@CIC', firstLineOnly: true, echoHello: true });
    expect(peer.of('HELLO')[0]!.features).toContain('chatp2p-pipeline');
    const sent = Array.from({ length: 50 }, (_, i) => t.engine.sendDirect('echo@CIC', `burst-${i + 1}`));
    await t.engine.whenIdle();
    expect(peer.of('SEND').map((f) => f.payload)).toEqual(sent.map((m) => m.text));
    expect(sent.map((m) => t.deliveries.filter((d) => d.msgId === m.msgId).at(-1))).toEqual(sent.map(() => expect.objectContaining({ state: 'delivered', attempts: 1 })));
    expect(t.logs.filter((l) => l.includes('echo@CIC advertises chatp2p-pipeline, chatp2p-files, chatp2p-receipts without the proof'))).toHaveLength(1);
  });

  it('loses no DM, PUB or ACK to a first-line reader slow to read again, PUBs among them', async () => {
    // It reads again only 80 ms after each read, four times the gap that follows a PUB.
    const { peer, t } = await engineWithPeer({ peerId: 'busy@CIC', firstLineOnly: true, readEveryMs: 80 });
    const s = socketOf(peer);
    const sent = [];
    for (let i = 0; i < 4; i++) {
      sent.push(t.engine.sendDirect('busy@CIC', `dm ${i}`));
      t.engine.publish('*', `pub ${i}`);
      peer.write(s, { type: 'SEND', msg_id: `its-${i}`, src: 'busy@CIC', dst: 'alice@CIC', payload: `its ${i}`, require_ack: true, ttl: 1 });
    }
    await t.engine.whenIdle();
    await waitFor('every PUB and ACK read', () => peer.of('PUB').length === 4 && peer.of('ACK').length === 4, 15_000);
    expect(peer.dropped.filter((f) => f.type !== 'PING')).toEqual([]);
    expect(peer.of('SEND').map((f) => f.payload)).toEqual(['dm 0', 'dm 1', 'dm 2', 'dm 3']);
    expect(sent.map((m) => t.deliveries.filter((d) => d.msgId === m.msgId).at(-1))).toEqual(sent.map(() => expect.objectContaining({ state: 'delivered', attempts: 1 })));
    expect(peer.of('ACK').map((f) => f.msg_id)).toEqual(['its-0', 'its-1', 'its-2', 'its-3']);
  });

  it('does not burst a PUB right behind a SEND', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'legacy@CIC', firstLineOnly: true });
    for (let i = 0; i < 5; i++) {
      t.engine.sendDirect('legacy@CIC', `dm ${i}`);
      t.engine.publish('*', `pub ${i}`);
    }
    await t.engine.whenIdle();
    await waitFor('every PUB read', () => peer.of('PUB').length === 5);
    expect(peer.of('SEND').map((f) => f.payload)).toEqual(['dm 0', 'dm 1', 'dm 2', 'dm 3', 'dm 4']);
  });
});

describe('toward a course client that drops the connection on any PUB', () => {
  it('dials it again after each drop: every DM after a PUB arrives once, no PUB is sent twice, and it is never given up on', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'fragile@CIC', dropsOnPub: true });
    // More rounds than max_reconnect_attempts (5): each reconnect that opens starts the count again.
    const rounds = 7;
    const dms = [];
    for (let i = 0; i < rounds; i++) {
      t.engine.publish('*', `pub ${i}`);
      const dm = t.engine.sendDirect('fragile@CIC', `dm ${i}`);
      dms.push(dm);
      await nextEvent(t.engine, 'delivery', (d) => d.msgId === dm.msgId && d.state === 'delivered', 6_000);
      await waitFor(`fragile@CIC open again after round ${i}`, () => t.peer('fragile@CIC')?.state === 'open', 6_000);
    }
    const delivered = [...new Set(peer.of('SEND').map((f) => f.msg_id))];
    expect(delivered).toEqual(dms.map((m) => m.msgId));
    expect(peer.of('PUB').map((f) => f.payload)).toEqual(Array.from({ length: rounds }, (_, i) => `pub ${i}`));
    expect(t.logs.some((l) => l.includes('Giving up on fragile@CIC'))).toBe(false);
  });
});

describe('toward a course client that never dials anyone', () => {
  it('dials it again after it leaves with BYE and comes back on another port, and delivers what was queued meanwhile', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'shy@CIC' });
    const closed = nextEvent(t.engine, 'peer', (p) => p.peerId === 'shy@CIC' && p.state === 'closed');
    peer.write(socketOf(peer), { type: 'BYE', msg_id: 'bye-1', src: 'shy@CIC', dst: 'alice@CIC', reason: 'restarting', ttl: 1 });
    await closed;
    await peer.close();
    const queued = t.engine.sendDirect('shy@CIC', 'are you back?');
    // Its next run: a new process, a new port, the same peer_id, and still no dial of its own.
    const back = new ScriptedPeer({ peerId: 'shy@CIC' });
    peers.push(back);
    await back.listen();
    await back.register(rdv.port);
    await nextEvent(t.engine, 'delivery', (d) => d.msgId === queued.msgId && d.state === 'delivered');
    expect(back.of('SEND').map((f) => f.payload)).toEqual(['are you back?']);
    expect(t.peer('shy@CIC')).toMatchObject({ state: 'open', direction: 'outbound' });
  });
});

describe('ACKs, retries and duplicates', () => {
  it('retries a SEND whose ACK never came with the same msg_id, and counts it delivered on the late ACK', async () => {
    let seen = 0;
    const { peer, t } = await engineWithPeer({ peerId: 'slow@CIC', ack: () => ++seen > 1 });
    const m = t.engine.sendDirect('slow@CIC', 'are you there?');
    const done = await nextEvent(t.engine, 'delivery', (d) => d.msgId === m.msgId && d.state === 'delivered');
    expect(done.attempts).toBe(2);
    expect(peer.of('SEND').map((f) => f.msg_id)).toEqual([m.msgId, m.msgId]);
    expect(t.logs.some((l) => l.startsWith('WARN [Router] No ACK from slow@CIC'))).toBe(true);
  });

  it('keeps a SEND in the outbox after the configured retries, saying why', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'mute@CIC', ack: false });
    const m = t.engine.sendDirect('mute@CIC', 'hello?');
    const parked = await nextEvent(t.engine, 'delivery', (d) => d.msgId === m.msgId && d.error !== undefined, 10_000);
    expect(parked).toMatchObject({ state: 'queued', error: 'no ACK after 4 attempts' });
    expect(peer.of('SEND').map((f) => f.msg_id)).toEqual([m.msgId, m.msgId, m.msgId, m.msgId]);
  });

  it('accepts ACKs that carry only type and msg_id', async () => {
    const { t } = await engineWithPeer({ peerId: 'terse@CIC', ackShape: (f) => ({ type: f.type, msg_id: f.msg_id }) });
    const m = t.engine.sendDirect('terse@CIC', 'x');
    await nextEvent(t.engine, 'delivery', (d) => d.msgId === m.msgId && d.state === 'delivered');
  });

  it('ACKs a retried SEND again but shows it once', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'bob@CIC' });
    const send = { type: 'SEND', msg_id: 'msg-1732400000', src: 'bob@CIC', dst: 'alice@CIC', payload: 'só uma vez', require_ack: true, ttl: 1 };
    peer.write(socketOf(peer), send);
    await waitFor('first ACK', () => peer.of('ACK').length === 1);
    peer.write(socketOf(peer), send);
    await waitFor('second ACK', () => peer.of('ACK').length === 2);
    expect(peer.of('ACK').map((f) => f.msg_id)).toEqual(['msg-1732400000', 'msg-1732400000']);
    expect(t.messages.map((m) => m.text)).toEqual(['só uma vez']);
    expect(t.engine.status().counters.duplicates).toBe(1);
  });
});

describe('what peers send', () => {
  it('reads every timestamp form, and messages without one', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'bob@CIC' });
    const forms: [unknown, number | undefined][] = [
      ['2026-11-24T12:00:00Z', Date.UTC(2026, 10, 24, 12)],
      ['2026-11-24T12:00:00.123456+00:00', Date.UTC(2026, 10, 24, 12, 0, 0, 123)],
      ['2026-11-24T12:00:00', new Date(2026, 10, 24, 12).getTime()],
      [1795521600, 1795521600_000],
      [1795521600.5, 1795521600_500],
      [undefined, undefined],
      ['yesterday', undefined],
    ];
    forms.forEach(([timestamp], i) => peer.write(socketOf(peer), { type: 'SEND', msg_id: `t${i}`, src: 'bob@CIC', dst: 'alice@CIC', payload: `t${i}`, require_ack: true, timestamp, ttl: 1 }));
    await waitFor('all shown and ACKed', () => t.messages.length === forms.length && peer.of('ACK').length === forms.length);
    expect(t.messages.map((m) => m.sentAt)).toEqual(forms.map(([, ms]) => ms));
  });

  it('does not attribute a SEND or PUB to a src other than the connection\'s peer_id', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'mallory@CIC' });
    peer.write(socketOf(peer), { type: 'SEND', msg_id: 's1', src: 'bob@CIC', dst: 'alice@CIC', payload: 'I am bob', require_ack: true, ttl: 1 });
    peer.write(socketOf(peer), { type: 'PUB', msg_id: 's2', src: 'prof@CIC', dst: 'CIC', payload: 'exam cancelled', require_ack: false, ttl: 1 });
    await waitFor('both shown', () => t.messages.length === 2);
    expect(t.messages.map((m) => [m.from, m.to, m.claimedSrc])).toEqual([
      ['mallory@CIC', 'alice@CIC', 'bob@CIC'],
      ['mallory@CIC', '#CIC', 'prof@CIC'],
    ]);
    expect(t.engine.status().counters.spoofed).toBe(2);
  });

  it('ignores unknown types and fields; bad frames are strikes, and the third brings BYE', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'buggy@CIC' });
    const s = socketOf(peer);
    peer.write(s, { type: 'RELAY', msg_id: 'r', anything: [1, 2] });
    peer.write(s, { type: 'SEND', msg_id: 'ok', src: 'buggy@CIC', dst: 'alice@CIC', payload: 'still fine', require_ack: true, extra: { a: 1 }, ttl: 1 });
    s.write('{"type": "SEND", oops\n[1,2,3]\n');
    await waitFor('message and two strikes', () => t.messages.length === 1 && t.engine.status().counters.invalidFrames === 2);
    expect(t.peer('buggy@CIC')!.state).toBe('open');
    s.write('"just a string"\n');
    await waitFor('BYE', () => peer.of('BYE').length === 1);
    expect(peer.of('BYE')[0]).toMatchObject({ src: 'alice@CIC', dst: 'buggy@CIC', reason: 'too many invalid frames' });
    expect(t.logs.filter((l) => l.includes('bad frame'))).toHaveLength(3);
  });

  it('closes a connection whose line outgrows 32768 bytes, and keeps serving the others', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'flood@CIC' });
    const good = new ScriptedPeer({ peerId: 'good@CIC' });
    peers.push(good);
    const goodSocket = await good.dial(t.engine.status().listen.port);
    await waitFor('good connected', () => t.peer('good@CIC')?.state === 'open');
    const closed = new Promise((resolve) => socketOf(peer).once('close', resolve));
    socketOf(peer).write('{"type":"SEND","payload":"' + 'x'.repeat(40_000));
    await closed;
    expect(t.logs).toContain('WARN [Peers] flood@CIC: line over the 32768-byte limit, closing the connection');
    good.write(goodSocket, { type: 'SEND', msg_id: 'g', src: 'good@CIC', dst: 'alice@CIC', payload: 'still here', require_ack: true, ttl: 1 });
    await waitFor('good message', () => t.messages.some((m) => m.text === 'still here'));
  });

  it('answers BYE with BYE_OK echoing its msg_id', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'bob@CIC' });
    peer.write(socketOf(peer), { type: 'BYE', msg_id: 'bye-1', src: 'bob@CIC', dst: 'alice@CIC', reason: 'tchau', ttl: 1 });
    await waitFor('BYE_OK', () => peer.of('BYE_OK').length === 1);
    expect(peer.of('BYE_OK')[0]).toMatchObject({ msg_id: 'bye-1', src: 'alice@CIC', dst: 'bob@CIC' });
    await waitFor('closed', () => t.peer('bob@CIC')?.state === 'closed');
  });
});

describe('handshakes', () => {
  it('pipelines toward a peer that answers our challenge, and says so in the peer list', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    await startEngine(rdv.port, 'bob', 'CIC');
    await waitFor('connected', () => alice.peer('bob@CIC')?.state === 'open');
    expect(alice.peer('bob@CIC')!.pipelined).toBe(true);
  });

  it('talks to a responder whose HELLO_OK names us, as the peer it dialed, and says so once', async () => {
    const { peer, t } = await engineWithPeer({ peerId: 'mirror@CIC', helloOkPeerId: 'dialer' });
    expect(t.peer('alice@CIC')).toBeUndefined();
    const first = t.engine.sendDirect('mirror@CIC', 'oi');
    await nextEvent(t.engine, 'delivery', (d) => d.msgId === first.msgId && d.state === 'delivered');
    peer.kill();
    await waitFor('connected again', () => peer.of('HELLO').length === 2 && t.peer('mirror@CIC')?.state === 'open');
    const second = t.engine.sendDirect('mirror@CIC', 'de novo');
    await nextEvent(t.engine, 'delivery', (d) => d.msgId === second.msgId && d.state === 'delivered');
    expect(peer.of('SEND').map((f) => [f.payload, f.dst])).toEqual([
      ['oi', 'mirror@CIC'],
      ['de novo', 'mirror@CIC'],
    ]);
    expect(t.logs.filter((l) => l.includes('answers HELLO with our own peer_id'))).toEqual([
      'INFO [Peers] mirror@CIC answers HELLO with our own peer_id (alice@CIC); taken as the peer we dialed',
    ]);
  });

  it('refuses a responder whose HELLO_OK names a third peer', async () => {
    const peer = new ScriptedPeer({ peerId: 'bob@CIC', helloOkPeerId: 'carol@CIC' });
    peers.push(peer);
    await peer.listen();
    await peer.register(rdv.port);
    const t = await startEngine(rdv.port, 'alice', 'CIC');
    const failed = await nextEvent(t.engine, 'peer', (p) => p.peerId === 'bob@CIC' && p.state === 'failed');
    expect(failed.lastError).toBe('answered as carol@CIC');
    expect(t.peer('carol@CIC')).toBeUndefined();
    expect(peer.of('SEND')).toEqual([]);
  });

  it('quits at once on a BYE_OK with a msg_id of its own and `dest` for `dst`', async () => {
    const peer = new ScriptedPeer({ peerId: 'odd@CIC', oddByeOk: true });
    peers.push(peer);
    await peer.listen();
    await peer.register(rdv.port);
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { byeTimeoutMs: 5_000 } });
    await waitFor('connected', () => t.peer('odd@CIC')?.state === 'open');
    const started = performance.now();
    await t.engine.stop();
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(peer.of('BYE')).toHaveLength(1);
  });

  it.each([
    ['an already-connected peer dialing again', 'bob@CIC'],
    ['a peer claiming our own peer_id', 'alice@CIC'],
  ])('closes the socket of %s before HELLO_OK', async (_, peerId) => {
    const { t } = await engineWithPeer({ peerId: 'bob@CIC' });
    const dialer = new ScriptedPeer({ peerId });
    peers.push(dialer);
    const s = await dialer.dial(t.engine.status().listen.port);
    await new Promise((resolve) => s.once('close', resolve));
    expect(dialer.frames).toEqual([]);
    expect(t.peer('bob@CIC')!.state).toBe('open');
  });

  it('drops a dialer that never says HELLO after the handshake timeout', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { handshakeTimeoutMs: 200 } });
    const s = connect({ host: '127.0.0.1', port: t.engine.status().listen.port });
    const received: Buffer[] = [];
    s.on('data', (c: Buffer) => received.push(c));
    await new Promise((resolve) => s.once('close', resolve));
    expect(Buffer.concat(received).length).toBe(0);
  });

  it('marks a peer stale after 3 missed PONGs, says BYE, and dials it again', async () => {
    const peer = new ScriptedPeer({ peerId: 'sleepy@CIC', pong: false });
    peers.push(peer);
    await peer.listen();
    await peer.register(rdv.port);
    const t: TestEngine = await startEngine(rdv.port, 'alice', 'CIC', { keepalive: { pingIntervalMs: 50 } });
    const stale = await nextEvent(t.engine, 'peer', (p) => p.peerId === 'sleepy@CIC' && p.state === 'stale');
    expect(stale.lastError).toBe('no PONG');
    expect(peer.of('PING').length).toBeGreaterThanOrEqual(3);
    expect(peer.of('BYE')[0]).toMatchObject({ reason: 'no PONG' });
    await waitFor('dialed again', () => peer.of('HELLO').length >= 2);
  });
});
