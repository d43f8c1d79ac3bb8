// Hostile peers against a running engine on 127.0.0.1: connection floods from one address and from
// many, floods of frames, peers that never read, never finish a line or fall silent, lies about who
// they are. Attackers connect from 127.0.0.10 and up, the well-behaved peer from 127.0.0.2, as on a
// LAN. After each attack, the engine must still serve a normal peer. Bounds are asserted structurally (what the engine holds,
// what it refused, bytes queued), never by timing; docs/RELIABILITY.md has the measured figures.
//
// Already covered elsewhere, not repeated here (tests/engine/peer-behaviour.test.ts): a dialer that
// never says HELLO is dropped after the handshake timeout; a line over 32768 bytes in one write
// closes the connection; bad frames are strikes; a SEND or PUB with a spoofed `src` is shown as
// from the connection's peer; an inbound HELLO claiming our own peer_id is refused.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, readConfigFile } from '../../src-main/engine/config.ts';
import { FEATURE_PIPELINE } from '../../src-main/engine/wire/messages.ts';
import { attackerAddress, firstLine, flood, helloLine, openClients } from '../helpers/hostile.ts';
import { ScriptedPeer, nextEvent, peerManagerOf, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';
import { register, startTestServer, type TestServer } from '../helpers/rendezvous.ts';

let rdv: TestServer;
const peers: ScriptedPeer[] = [];
const sockets: Socket[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await stopEngines();
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await rdv.close();
});

const portOf = (t: TestEngine) => t.engine.status().listen.port;
const stats = (t: TestEngine) => peerManagerOf(t.engine).stats();
const GOOD_PEER = '127.0.0.2';
/** One attacker address, for the floods from a single host. */
const ATTACKER = '127.0.0.10';
const fromAttacker = () => ATTACKER;

/**
 * The engine still does its job: a new peer connects from 127.0.0.2 and says HELLO at once, its DM
 * is shown and ACKed, and ours is delivered to it. Returns its socket.
 */
async function servesNormalPeer(t: TestEngine, name = 'normal'): Promise<Socket> {
  const peerId = `${name}@CIC`;
  const peer = new ScriptedPeer({ peerId });
  peers.push(peer);
  const socket = await peer.dial(portOf(t), peerId, GOOD_PEER);
  await waitFor(`${peerId} connected`, () => t.peer(peerId)?.state === 'open');
  peer.write(socket, { type: 'SEND', msg_id: `${name}-1`, src: peerId, dst: 'alice@CIC', payload: 'still there?', require_ack: true, ttl: 1 });
  await waitFor(`${peerId}'s DM shown and ACKed`, () => t.messages.some((m) => m.from === peerId) && peer.of('ACK').some((a) => a.msg_id === `${name}-1`));
  const reply = t.engine.sendDirect(peerId, 'yes');
  await nextEvent(t.engine, 'delivery', (d) => d.msgId === reply.msgId && d.state === 'delivered');
  expect(peer.of('SEND').map((f) => f.payload)).toEqual(['yes']);
  return socket;
}

describe('the bounds in config.json', () => {
  it('are read from the network section, and values that would defeat them are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatp2p-bounds-'));
    try {
      const file = (network: object) => {
        const path = join(dir, 'config.json');
        writeFileSync(path, JSON.stringify({ network }));
        return path;
      };
      const bounds = { max_pending_handshakes: 10, max_pending_per_ip: 5, max_connections_per_ip: 20, max_write_queue_bytes: 65_536, max_concurrent_dials: 8 };
      expect(readConfigFile(file(bounds)).network).toMatchObject({ maxPendingHandshakes: 10, maxPendingPerIp: 5, maxConnectionsPerIp: 20, maxWriteQueueBytes: 65_536, maxConcurrentDials: 8 });
      for (const bad of [{ max_pending_handshakes: 0 }, { max_pending_per_ip: -1 }, { max_connections_per_ip: 1.5 }, { max_write_queue_bytes: 32_768 }, { max_write_queue_bytes: '4MB' }, { max_concurrent_dials: 0 }]) {
        expect(() => readConfigFile(file(bad))).toThrow(ConfigError);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('connection floods', () => {
  /**
   * Opens `count` silent connections; once every refused one is closed, returns them and the ones
   * still held. The handshake timeout is long, so that none is released while the flood arrives.
   */
  async function silentFlood(t: TestEngine, count: number, held: number) {
    const clients = await openClients(portOf(t), count, { from: fromAttacker });
    for (const c of clients) sockets.push(c.socket);
    await waitFor('the refused ones closed', () => clients.filter((c) => c.isClosed).length >= count - held, 20_000);
    return { refused: clients.filter((c) => c.isClosed), kept: clients.filter((c) => !c.isClosed) };
  }

  it('holds at most max_pending_per_ip of 1,000 connections opened at once from one address, and closes the rest in order', async () => {
    // Default caps; a handshake timeout long enough that no slot frees up during the flood.
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { handshakeTimeoutMs: 30_000 }, logging: { level: 'INFO' } });
    const { refused, kept } = await silentFlood(t, 1000, 64);
    expect(stats(t)).toMatchObject({ pendingHandshakes: 64, peakPendingHandshakes: 64, refused: 936 });
    expect(kept).toHaveLength(64);
    // Closed before a byte from us, with an orderly end rather than a reset.
    expect(refused.filter((c) => c.received > 0 || !c.ended || c.error !== undefined)).toEqual([]);
    const refusals = t.logs.filter((l) => l.includes('Refused'));
    expect(refusals[0]).toMatch(/^WARN \[Peers\] Refused a connection from 127\.0\.0\.10:\d+: 64 handshakes from 127\.0\.0\.10 already pending \(max_pending_per_ip\)$/);
    // Hundreds refused, a handful of log lines.
    expect(refusals.length).toBeLessThan(20);
    for (const c of kept) c.socket.destroy();
    await waitFor('nothing pending', () => stats(t).pendingHandshakes === 0 && stats(t).inbound === 0);
    await servesNormalPeer(t);
  });

  it('holds at most max_pending_handshakes in all: a newcomer takes the place of the oldest, and the rest time out', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { maxPendingHandshakes: 20, maxPendingPerIp: 10_000, handshakeTimeoutMs: 2_000 }, logging: { level: 'INFO' } });
    const { refused: evicted, kept } = await silentFlood(t, 200, 20);
    expect(stats(t)).toMatchObject({ peakPendingHandshakes: 20, refused: 0, evicted: 180 });
    expect(evicted.every((c) => c.received === 0)).toBe(true);
    expect(t.logs.some((l) => /^WARN \[Peers\] Evicted the pending connection from 127\.0\.0\.10:\d+ for a newcomer from 127\.0\.0\.10: 20 handshakes already pending \(max_pending_handshakes\)$/.test(l))).toBe(true);
    expect(t.logs.filter((l) => l.includes('Evicted') || l.includes('evicted')).length).toBeLessThan(20);
    // The held ones are dropped at the handshake timeout.
    await Promise.all(kept.map((c) => c.closed));
    expect(kept.every((c) => c.ended && c.received === 0)).toBe(true);
    await servesNormalPeer(t);
  });

  it('holds at most max_connections_per_ip from one IP, counting peers past HELLO, and refuses the rest before HELLO_OK', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { maxConnectionsPerIp: 10, maxPendingPerIp: 10_000, maxPendingHandshakes: 10_000 }, logging: { level: 'INFO' } });
    const answers: Promise<Record<string, unknown> | undefined>[] = [];
    const clients = await openClients(portOf(t), 30, {
      from: fromAttacker,
      onConnect: (socket, i) => {
        answers.push(firstLine(socket));
        socket.write(helloLine(`sybil${i}@CIC`));
      },
    });
    for (const c of clients) sockets.push(c.socket);
    const got = await Promise.all(answers);
    expect(got.filter((a) => a?.type === 'HELLO_OK')).toHaveLength(10);
    expect(got.filter((a) => a === undefined)).toHaveLength(20);
    // Their HELLO was read and dropped: an orderly end, not a reset.
    expect(clients.filter((c) => c.isClosed).map((c) => [c.ended, c.error])).toEqual(Array(20).fill([true, undefined]));
    expect(stats(t)).toMatchObject({ inbound: 10, open: 10, refused: 20 });
    expect(t.logs.some((l) => l.endsWith('10 connections from 127.0.0.10 already (max_connections_per_ip)'))).toBe(true);
    // The refused ones never became peers.
    expect(t.engine.peers()).toHaveLength(10);

    for (const c of clients) c.socket.destroy();
    await waitFor('all gone', () => stats(t).inbound === 0);
    await servesNormalPeer(t);
  });
});

describe('connection floods from many addresses', () => {
  /**
   * Keeps `concurrent` silent connections open from `addresses` attacker addresses, opening a new
   * one (from the next address) each time one is closed, as an attacker who reopens as fast as we
   * close; stops after `total` connections. Resolves with how many were opened, once stopped.
   */
  function reopeningFlood(port: number, addresses: number, concurrent: number, total: number) {
    let opened = 0;
    let stopped = false;
    let open = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const from = attackerAddress(addresses);
    const one = () => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: from(opened++) });
      sockets.push(socket);
      open += 1;
      socket.on('error', () => undefined);
      socket.once('close', () => {
        open -= 1;
        if (!stopped && opened < total) one();
        else if (open === 0) done();
      });
    };
    for (let i = 0; i < concurrent; i++) one();
    return {
      get opened() {
        return opened;
      },
      async stop(): Promise<number> {
        stopped = true;
        for (const s of sockets) s.destroy();
        await finished;
        return opened;
      },
    };
  }

  it('with every handshake slot held by 8 addresses, a peer from 127.0.0.2 that says HELLO at once is served, and the slots stay bounded', async () => {
    // The measurement: 320 silent connections, 40 from each of 127.0.0.10-17, at the
    // default caps (128 in all, 64 per IP); no slot frees up by timeout during the test.
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { handshakeTimeoutMs: 30_000 }, logging: { level: 'INFO' } });
    const clients = await openClients(portOf(t), 320, { from: attackerAddress(8) });
    for (const c of clients) sockets.push(c.socket);
    await waitFor('192 closed', () => clients.filter((c) => c.isClosed).length === 192);
    await servesNormalPeer(t);
    // It took the place of one pending attacker; the attackers' own newcomers took the rest.
    expect(stats(t)).toMatchObject({ pendingHandshakes: 127, peakPendingHandshakes: 128, refused: 0, evicted: 193 });
    // Evicted before a byte from us; each address keeps its share, none more than another by two.
    expect(clients.filter((c) => c.isClosed && c.received > 0)).toEqual([]);
    const keptPer = [0, 1, 2, 3, 4, 5, 6, 7].map((a) => clients.filter((c, i) => i % 8 === a && !c.isClosed).length);
    expect(Math.max(...keptPer) - Math.min(...keptPer)).toBeLessThanOrEqual(2);
    const evictions = t.logs.filter((l) => l.includes('Evicted') || l.includes('evicted'));
    expect(evictions[0]).toMatch(/^WARN \[Peers\] Evicted the pending connection from 127\.0\.0\.1\d:\d+ for a newcomer from 127\.0\.0\.1\d: 128 handshakes already pending \(max_pending_handshakes\)$/);
    expect(evictions.length).toBeLessThan(10);
  });

  it('while 32 addresses reopen as fast as we close, every peer that says HELLO is served and an open peer keeps its connection', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { maxPendingHandshakes: 32, handshakeTimeoutMs: 30_000 } });
    // A peer already open before the flood: it holds no handshake slot, so nothing evicts it.
    const early = await servesNormalPeer(t, 'early');
    const attack = reopeningFlood(portOf(t), 32, 64, 20_000);
    await waitFor('the flood under way', () => attack.opened >= 500);
    for (let i = 0; i < 10; i++) await servesNormalPeer(t, `good${i}`);
    expect(stats(t).evicted).toBeGreaterThan(500);
    const opened = await attack.stop();
    expect(opened).toBeGreaterThan(500);
    expect(stats(t).peakPendingHandshakes).toBe(32);
    expect(stats(t).refused).toBe(0);
    // The early peer was never dropped, and its connection still carries DMs both ways.
    expect(early.destroyed).toBe(false);
    expect(t.peer('early@CIC')).toMatchObject({ state: 'open', reconnectAttempts: 0 });
    const late = t.engine.sendDirect('early@CIC', 'after the flood');
    await nextEvent(t.engine, 'delivery', (d) => d.msgId === late.msgId && d.state === 'delivered');
    await waitFor('nothing pending', () => stats(t).pendingHandshakes === 0);
  });

  it('holds slow HELLOs from many addresses within the cap, and still serves a prompt peer', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { maxPendingHandshakes: 40, handshakeTimeoutMs: 30_000 } });
    // 120 connections from 12 addresses, each writing its HELLO a byte every 100 ms: never done in time.
    const line = helloLine('slowpoke@CIC');
    const drips: NodeJS.Timeout[] = [];
    try {
      const clients = await openClients(portOf(t), 120, {
        from: attackerAddress(12),
        onConnect: (socket) => {
          let i = 0;
          drips.push(setInterval(() => socket.writable && i < line.length - 1 && socket.write(line[i++]!), 100));
        },
      });
      for (const c of clients) sockets.push(c.socket);
      await waitFor('80 closed', () => clients.filter((c) => c.isClosed).length === 80);
      await servesNormalPeer(t);
      expect(stats(t)).toMatchObject({ pendingHandshakes: 39, evicted: 81 });
      expect(t.engine.peers().map((p) => p.peerId)).toEqual(['normal@CIC']);
    } finally {
      for (const d of drips) clearInterval(d);
    }
  });
});


describe('outbound dials', () => {
  it('dials at most max_concurrent_dials of a 500-peer DISCOVER at once, queues the rest, and reaches a real peer listed last', async () => {
    // 500 names registered at one address that accepts and never answers: each dial waits out
    // the handshake timeout. A real peer is listed after them.
    const held = new Set<Socket>();
    let peak = 0;
    const tarpit = createServer((socket) => {
      held.add(socket);
      peak = Math.max(peak, held.size);
      socket.on('error', () => undefined);
      socket.on('close', () => held.delete(socket));
      // Reading is how it notices the dialer gave up.
      socket.resume();
    });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    const tarpitPort = (tarpit.address() as { port: number }).port;
    const real = new ScriptedPeer({ peerId: 'zoe@CIC' });
    peers.push(real);
    try {
      for (let i = 0; i < 500; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => register(rdv.port, `listed${i + j}`, 'CIC', tarpitPort)));
      await real.listen();
      await real.register(rdv.port);
      const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { handshakeTimeoutMs: 300 }, peerConnection: { maxReconnectAttempts: 0 } });
      const max = t.engine.config.network.maxConcurrentDials;
      await waitFor('the first dials held', () => held.size === max);
      expect(stats(t)).toMatchObject({ dialing: max, dialsQueued: 501 - max });
      expect(t.engine.peers().filter((p) => p.state === 'connecting')).toHaveLength(501);
      await waitFor('zoe reached', () => t.peer('zoe@CIC')?.state === 'open', 20_000);
      expect(stats(t).peakDialing).toBe(max);
      // The listener's view lags by the closes still on their way to it.
      expect(peak).toBeLessThan(2 * max);
      await waitFor('every listed peer tried once', () => t.engine.peers().filter((p) => p.state === 'failed').length === 500, 20_000);
      expect(stats(t)).toMatchObject({ dialing: 0, dialsQueued: 0 });
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => tarpit.close(resolve));
    }
  });
});

describe('peers that do not play along', () => {
  it('drops a peer that says HELLO and then falls silent, as stale, and forgets it', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { keepalive: { pingIntervalMs: 100 } });
    const [client] = await openClients(portOf(t), 1, { from: fromAttacker, onConnect: (s) => s.write(helloLine('mute@CIC')) });
    sockets.push(client!.socket);
    await waitFor('open', () => t.peer('mute@CIC')?.state === 'open');
    await client!.closed;
    await waitFor('forgotten', () => t.peer('mute@CIC') === undefined);
    expect(t.logs).toContain('WARN [Peers] mute@CIC missed 3 PONGs: stale');
    expect(stats(t).inbound).toBe(0);
    await servesNormalPeer(t);
  });

  it('drops a peer whose line never ends even when it never reaches 32768 bytes', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { keepalive: { pingIntervalMs: 100 } });
    const [client] = await openClients(portOf(t), 1, { from: fromAttacker, onConnect: (s) => s.write(helloLine('drip@CIC')) });
    const socket = client!.socket;
    sockets.push(socket);
    await waitFor('open', () => t.peer('drip@CIC')?.state === 'open');
    // One line, a few bytes at a time, that would take minutes to reach the limit: the PONGs it
    // cannot send while inside it are what gives it away.
    const drip = setInterval(() => socket.writable && socket.write('{"type":"SEND","payload":"' + 'x'.repeat(10)), 20);
    try {
      await client!.closed;
    } finally {
      clearInterval(drip);
    }
    expect(t.logs).toContain('WARN [Peers] drip@CIC missed 3 PONGs: stale');
    expect(t.messages).toEqual([]);
    await servesNormalPeer(t);
  });

  it('answers a PING flood with one PONG per read rather than one per PING, and answers the latest', async () => {
    for (const features of [['ack'], ['ack', FEATURE_PIPELINE]]) {
      const t = await startEngine(rdv.port, 'alice', 'CIC', { logging: { level: 'INFO' } });
      const pongs: string[] = [];
      let rest = '';
      const [client] = await openClients(portOf(t), 1, { from: fromAttacker, onConnect: (s) => s.write(helloLine('pinger@CIC', features)) });
      const socket = client!.socket;
      sockets.push(socket);
      socket.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop()!;
        for (const l of lines) if (l.includes('"PONG"')) pongs.push((JSON.parse(l) as { msg_id: string }).msg_id);
      });
      await waitFor('open', () => t.peer('pinger@CIC')?.state === 'open');
      const PINGS = 20_000;
      const frames = Array.from({ length: PINGS }, (_, i) => JSON.stringify({ type: 'PING', msg_id: `ping-${i}`, ttl: 1 }) + '\n');
      for (let i = 0; i < PINGS; i += 2000) socket.write(frames.slice(i, i + 2000).join(''));
      await waitFor('the PONG to the last PING', () => pongs.includes(`ping-${PINGS - 1}`));
      expect(pongs.length).toBeLessThan(PINGS / 10);
      expect(t.peer('pinger@CIC')?.state).toBe('open');
      expect(stats(t).peakQueuedBytes).toBeLessThan(64 * 1024);
      expect(t.logs).toContain('WARN [Peers] pinger@CIC: PING flood, answering only its latest PING');
      await servesNormalPeer(t, `normal${features.length}`);
      await stopEngines();
    }
  });

  it.each([
    ['a legacy peer, at the default limit', ['ack'], undefined],
    ['a pipelining peer, at a lower limit', ['ack', FEATURE_PIPELINE], 256 * 1024],
  ])('drops %s that floods SENDs without reading our ACKs, before its queue outgrows the limit', async (_, features, limit) => {
    const t = await startEngine(rdv.port, 'alice', 'CIC', { network: { maxWriteQueueBytes: limit }, logging: { level: 'INFO' } });
    const max = limit ?? t.engine.config.network.maxWriteQueueBytes;
    const [client] = await openClients(portOf(t), 1, { from: fromAttacker, onConnect: (s) => s.write(helloLine('hog@CIC', features)) });
    const socket = client!.socket;
    sockets.push(socket);
    await waitFor('open', () => t.peer('hog@CIC')?.state === 'open');
    socket.pause();
    // The same SEND again and again: each is ACKed, none is shown twice. Long msg_ids, long ACKs.
    const send = JSON.stringify({ type: 'SEND', msg_id: 'm'.repeat(128), src: 'hog@CIC', dst: 'alice@CIC', payload: 'x', require_ack: true, ttl: 1 }) + '\n';
    const result = await flood(socket, send, 400_000);
    expect(result.closed).toBe(true);
    await waitFor('dropped', () => t.peer('hog@CIC') === undefined);
    expect(t.logs.some((l) => /^WARN \[Peers\] hog@CIC is not reading: \d+ bytes queued for it \(limit \d+\), dropping the connection$/.test(l))).toBe(true);
    const s = stats(t);
    // Past the limit by at most what one read of the flood makes us answer.
    expect(s.peakQueuedBytes).toBeGreaterThan(max);
    expect(s.peakQueuedBytes).toBeLessThan(max + 256 * 1024);
    expect(s.maxQueuedBytes).toBe(0);
    expect(t.messages).toHaveLength(1);
    await servesNormalPeer(t);
  });
});

describe('peers that lie about who they are', () => {
  it('shows a SEND whose src is our own peer_id or another connected peer as from the connection it came on', async () => {
    const t = await startEngine(rdv.port, 'alice', 'CIC');
    const bob = new ScriptedPeer({ peerId: 'bob@CIC' });
    const mallory = new ScriptedPeer({ peerId: 'mallory@CIC' });
    peers.push(bob, mallory);
    const bobSocket = await bob.dial(portOf(t));
    const mallorySocket = await mallory.dial(portOf(t));
    await waitFor('both open', () => t.peer('bob@CIC')?.state === 'open' && t.peer('mallory@CIC')?.state === 'open');
    mallory.write(mallorySocket, { type: 'SEND', msg_id: 'x1', src: 'alice@CIC', dst: 'alice@CIC', payload: 'note to self', require_ack: true, ttl: 1 });
    mallory.write(mallorySocket, { type: 'SEND', msg_id: 'x2', src: 'bob@CIC', dst: 'alice@CIC', payload: 'bob here, honest', require_ack: true, ttl: 1 });
    bob.write(bobSocket, { type: 'SEND', msg_id: 'x2', src: 'bob@CIC', dst: 'alice@CIC', payload: 'the real bob', require_ack: true, ttl: 1 });
    await waitFor('all three shown', () => t.messages.length === 3);
    expect(t.messages.map((m) => [m.from, m.claimedSrc, m.text]).sort()).toEqual([
      ['bob@CIC', undefined, 'the real bob'],
      ['mallory@CIC', 'alice@CIC', 'note to self'],
      ['mallory@CIC', 'bob@CIC', 'bob here, honest'],
    ]);
    expect(t.engine.status().counters.spoofed).toBe(2);
  });

  it('takes a peer whose HELLO_OK claims our own peer_id as the peer it dialed, never as us (PROTOCOL.md §4)', async () => {
    // Registered as bob@CIC, it answers our HELLO as if it were us.
    const impostor = new ScriptedPeer({ peerId: 'alice@CIC' });
    peers.push(impostor);
    await impostor.listen();
    await register(rdv.port, 'bob', 'CIC', impostor.port);
    const t = await startEngine(rdv.port, 'alice', 'CIC', { peerConnection: { maxReconnectAttempts: 0 } });
    await nextEvent(t.engine, 'peer', (p) => p.peerId === 'bob@CIC' && p.state === 'open');
    expect(t.engine.peers().map((p) => p.peerId)).toEqual(['bob@CIC']);
    const dm = t.engine.sendDirect('bob@CIC', 'oi bob');
    await nextEvent(t.engine, 'delivery', (d) => d.msgId === dm.msgId && d.state === 'delivered');
    expect(impostor.of('SEND').map((f) => f.dst)).toEqual(['bob@CIC']);
    await servesNormalPeer(t);
  });
});
