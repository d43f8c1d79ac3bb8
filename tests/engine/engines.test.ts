// Two and three engines through our rendezvous server, on 127.0.0.1.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, requestJson, type TestServer } from '../helpers/rendezvous.ts';
import { nextEvent, startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';

let rdv: TestServer;
beforeEach(async () => {
  rdv = await startTestServer();
});
afterEach(async () => {
  await stopEngines();
  await rdv.close();
});

const connected = (a: TestEngine, peerId: string) => a.peer(peerId)?.state === 'open';

describe('two engines', () => {
  it('find each other, connect once, and exchange DMs with ACK both ways', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    await waitFor('both connected', () => connected(alice, 'bob@CIC') && connected(bob, 'alice@CIC'));
    // One connection, seen from both ends: one side dialed, the other accepted.
    expect([alice.peer('bob@CIC')!.direction, bob.peer('alice@CIC')!.direction].sort()).toEqual(['inbound', 'outbound']);
    expect(alice.peer('bob@CIC')!.pipelined).toBe(true);

    const toBob = alice.engine.sendDirect('bob@CIC', 'oi bob, tudo bem? ✓');
    const toAlice = bob.engine.sendDirect('alice@CIC', 'tudo!');
    await waitFor('both delivered', () =>
      [alice.deliveries.find((d) => d.msgId === toBob.msgId && d.state === 'delivered'), bob.deliveries.find((d) => d.msgId === toAlice.msgId && d.state === 'delivered')].every(Boolean),
    );
    expect(alice.deliveries.filter((d) => d.msgId === toBob.msgId).map((d) => d.state)).toEqual(['queued', 'sent', 'delivered']);
    expect(bob.messages).toEqual([expect.objectContaining({ kind: 'dm', from: 'alice@CIC', to: 'bob@CIC', text: 'oi bob, tudo bem? ✓', msgId: toBob.msgId, claimedSrc: undefined })]);
    expect(alice.messages).toEqual([expect.objectContaining({ kind: 'dm', from: 'bob@CIC', text: 'tudo!' })]);
  });

  it('keeps one connection when both dial at once, the smaller peer_id\'s dial, and loses nothing sent meanwhile', async () => {
    // Different namespaces under the namespace policy: neither dials the other until it sends,
    // and both send in the same tick, so both dial at once.
    const policy = { peerConnection: { policy: 'namespace' as const } };
    for (let round = 0; round < 3; round++) {
      const a = await startEngine(rdv.port, `a${round}`, 'X', policy);
      const b = await startEngine(rdv.port, `b${round}`, 'Y', policy);
      const [aId, bId] = [`a${round}@X`, `b${round}@Y`];
      await waitFor('both discovered', () => a.peer(bId)?.state === 'closed' && b.peer(aId)?.state === 'closed');
      const ab = a.engine.sendDirect(bId, `from a ${round}`);
      const ba = b.engine.sendDirect(aId, `from b ${round}`);
      expect([a.peer(bId)!.state, b.peer(aId)!.state]).toEqual(['connecting', 'connecting']);
      await waitFor('delivered both ways', () => a.deliveries.some((d) => d.msgId === ab.msgId && d.state === 'delivered') && b.deliveries.some((d) => d.msgId === ba.msgId && d.state === 'delivered'));
      await new Promise((r) => setTimeout(r, 300));
      expect(a.peer(bId)).toMatchObject({ state: 'open', direction: 'outbound' });
      expect(b.peer(aId)).toMatchObject({ state: 'open', direction: 'inbound' });
      expect(b.logs).toContain(`DEBUG [Peers] Dialing ${aId} at 127.0.0.1:${a.engine.status().listen.port}`);
      expect(a.logs.some((l) => l.includes(`Refused inbound HELLO from ${bId}`) && l.endsWith('simultaneous dial: ours wins'))).toBe(true);
      expect(b.messages.map((m) => m.text)).toEqual([`from a ${round}`]);
      expect(a.messages.map((m) => m.text)).toEqual([`from b ${round}`]);
      await stopEngines();
    }
  });

  it('says BYE and UNREGISTERs when one leaves; the other shows it closed', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    await waitFor('connected', () => connected(alice, 'bob@CIC'));
    const closed = nextEvent(alice.engine, 'peer', (p) => p.peerId === 'bob@CIC' && p.state === 'closed');
    await bob.engine.stop();
    expect((await closed).lastError).toBe('left: shutting down');
    expect(alice.logs).toContain('INFO [Peers] bob@CIC said BYE (shutting down)');
    const discover = await requestJson(rdv.port, { type: 'DISCOVER', namespace: 'CIC' });
    expect((discover.peers as { name: string }[]).map((p) => p.name)).toEqual(['alice']);
    // Gone from the rendezvous list: forgotten at the next DISCOVER.
    await waitFor('bob forgotten', () => alice.peer('bob@CIC') === undefined);
  });

  it('takes its record back even when it stops while its first REGISTER is still in flight', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    await alice.engine.stop();
    expect(alice.logs).toContain('INFO [Rendezvous] UNREGISTER alice@CIC -> OK');
    expect(rdv.registrations).toBe(0);
  });

  it('measures RTT with PING on both the inbound and the outbound side', async () => {
    const fast = { keepalive: { pingIntervalMs: 50 } };
    const alice = await startEngine(rdv.port, 'alice', 'CIC', fast);
    const bob = await startEngine(rdv.port, 'bob', 'CIC', fast);
    await waitFor('RTT on both sides', () => alice.peer('bob@CIC')?.lastRttMs !== undefined && bob.peer('alice@CIC')?.lastRttMs !== undefined);
    for (const view of [alice.peer('bob@CIC')!, bob.peer('alice@CIC')!]) {
      expect(view.lastRttMs).toBeGreaterThan(0);
      expect(view.avgRttMs).toBeGreaterThan(0);
    }
    expect(alice.engine.status().avgRttMs).toBeGreaterThan(0);
  });

  it('reconnects to a peer that restarts on the same port, and delivers what was queued meanwhile', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    await waitFor('connected', () => connected(alice, 'bob@CIC'));
    const port = bob.engine.status().listen.port;
    await bob.engine.stop();
    await waitFor('bob closed', () => alice.peer('bob@CIC')?.state !== 'open');
    const bob2 = await startEngine(rdv.port, 'bob', 'CIC', { port });
    await waitFor('reconnected', () => connected(alice, 'bob@CIC') && connected(bob2, 'alice@CIC'));
    alice.engine.sendDirect('bob@CIC', 'welcome back');
    await waitFor('delivered', () => bob2.messages.some((m) => m.text === 'welcome back'));
  });
});

describe('three engines', () => {
  it('PUB * reaches everyone connected, PUB #ns only that namespace', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    const carol = await startEngine(rdv.port, 'carol', 'UnB');
    await waitFor('alice connected to both', () => connected(alice, 'bob@CIC') && connected(alice, 'carol@UnB') && connected(bob, 'carol@UnB'));

    expect(alice.engine.publish('#CIC', 'só CIC')).toMatchObject({ kind: 'pub', to: '#CIC', state: 'sent', recipients: 1 });
    expect(alice.engine.publish('*', 'todo mundo')).toMatchObject({ to: '*', recipients: 2 });
    // A bare namespace is read as #namespace.
    expect(carol.engine.publish('CIC', 'oi CIC')).toMatchObject({ to: '#CIC', recipients: 2 });
    await waitFor('PUBs arrived', () => bob.messages.length === 3 && carol.messages.length === 1 && alice.messages.length === 1);
    expect(bob.messages.map((m) => [m.from, m.to, m.text]).sort()).toEqual([
      ['alice@CIC', '#CIC', 'só CIC'],
      ['alice@CIC', '*', 'todo mundo'],
      ['carol@UnB', '#CIC', 'oi CIC'],
    ]);
    expect(carol.messages.map((m) => [m.from, m.to, m.text])).toEqual([['alice@CIC', '*', 'todo mundo']]);
    expect(alice.messages.map((m) => [m.kind, m.from, m.to])).toEqual([['pub', 'carol@UnB', '#CIC']]);
  });

  it('with the namespace policy, dials only its own namespace until it messages someone else', async () => {
    const policy = { peerConnection: { policy: 'namespace' as const } };
    const alice = await startEngine(rdv.port, 'alice', 'CIC', policy);
    const bob = await startEngine(rdv.port, 'bob', 'CIC', policy);
    const carol = await startEngine(rdv.port, 'carol', 'UnB', policy);
    await waitFor('alice and bob connected', () => connected(alice, 'bob@CIC'));
    await new Promise((r) => setTimeout(r, 500));
    expect(alice.peer('carol@UnB')?.state).toBe('closed');
    expect(carol.peer('alice@CIC')?.state).toBe('closed');
    alice.engine.sendDirect('carol@UnB', 'oi de fora');
    await waitFor('carol got it', () => carol.messages.some((m) => m.text === 'oi de fora'));
    expect(alice.peer('carol@UnB')?.state).toBe('open');
    expect(bob.peer('carol@UnB')?.state).toBe('closed');
  });
});

describe('sending to peers that are not there', () => {
  it('keeps a DM to a peer_id nobody registered in the outbox, saying why', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    const sent = alice.engine.sendDirect('ghost@CIC', 'anyone?');
    const parked = await nextEvent(alice.engine, 'delivery', (d) => d.msgId === sent.msgId && d.error !== undefined);
    expect(parked).toMatchObject({ state: 'queued', error: 'ghost@CIC is not registered on the rendezvous server' });
    await alice.engine.whenIdle();
  });

  it('refuses commands it cannot carry out, with a clear error', async () => {
    const alice = await startEngine(rdv.port, 'alice', 'CIC');
    expect(() => alice.engine.sendDirect('bob', 'x')).toThrow('a peer is addressed as name@namespace');
    expect(() => alice.engine.sendDirect('alice@CIC', 'x')).toThrow('that is our own peer_id');
    expect(() => alice.engine.sendDirect('bob@CIC', '')).toThrow('the message is empty');
    expect(() => alice.engine.sendDirect('bob@CIC', 'x'.repeat(33_000))).toThrow(/too long/);
    expect(() => alice.engine.publish('#', 'x')).toThrow('publish to * or #namespace');
    expect(() => alice.engine.publish(42, 'x')).toThrow('publish to * or #namespace');
    expect(alice.engine.status().peers.known).toBe(0);
  });
});
