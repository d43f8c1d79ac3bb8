// chatp2p-secure between real engines on 127.0.0.1, with the network in between played by a
// proxy that captures every byte and, for the attacks, rewrites, repeats or swaps lines.

import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineProxy, type Tamper } from './proxy.ts';
import { openMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { startSecureEngine, stopSecureEngine, stopSecureEngines, type SecureEngine } from './helpers.ts';
import { register, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { ScriptedPeer, waitFor } from '../helpers/peers.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stopSecureEngines();
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function server(): Promise<TestServer> {
  const s = await startTestServer();
  cleanup.push(() => s.close());
  return s;
}

/**
 * Alice finds bob only through the proxy: her rendezvous server has the proxy's port under bob's
 * name, and bob registers with a server of his own, so he never dials her.
 */
async function behindProxy(tamper?: Tamper): Promise<{ alice: SecureEngine; bob: SecureEngine; proxy: LineProxy; rdv: TestServer }> {
  const [rdv, bobsRdv] = [await server(), await server()];
  const bob = await startSecureEngine(bobsRdv.port, 'bob');
  const proxy = new LineProxy(bob.engine.status().listen.port);
  proxy.tamper = tamper;
  await proxy.listen();
  cleanup.push(() => proxy.close());
  await register(rdv.port, 'bob', 'CIC', proxy.port);
  const alice = await startSecureEngine(rdv.port, 'alice', { overrides: { keepalive: { pingIntervalMs: 150 } } });
  return { alice, bob, proxy, rdv };
}

const sealed = (alice: SecureEngine, bob: SecureEngine) => alice.security('bob@CIC') === 'encrypted' && bob.security('alice@CIC') === 'encrypted';
const isSealed = (line: Buffer) => line.toString('utf8').startsWith('{"type":"SEALED"');

/** Passes lines through until `arm()`, then hands the next SEALED line toward bob to `attack` once. */
function onNextSealedToBob(attack: (line: Buffer) => Buffer[]): { tamper: Tamper; arm(): void } {
  let armed = false;
  return {
    arm: () => (armed = true),
    tamper: (line, _index, direction) => {
      if (!armed || direction !== 'toTarget' || !isSealed(line)) return [line];
      armed = false;
      return attack(line);
    },
  };
}

describe('chatp2p-secure between two engines', () => {
  it('seals DM, ACK, PUB, PING and BYE: after HELLO the capture holds no payload, no peer_id and no msg_id; a legacy peer still gets plain frames', async () => {
    const { alice, bob, proxy, rdv } = await behindProxy();
    // A course client that echoes our HELLO back, features and all: plain text, never a downgrade.
    const carol = new ScriptedPeer({ peerId: 'carol@CIC', echoHello: true });
    await carol.listen();
    cleanup.push(() => carol.close());
    await carol.register(rdv.port);

    await waitFor('a sealed connection both ways', () => sealed(alice, bob));
    const dm = alice.engine.sendDirect('bob@CIC', 'segredo da alice para o bob');
    const back = bob.engine.sendDirect('alice@CIC', 'resposta secreta do bob');
    alice.engine.publish('*', 'anuncio cifrado para todos');
    const toCarol = alice.engine.sendDirect('carol@CIC', 'mensagem em claro para a carol');
    await waitFor('both DMs delivered, the PUB read', () =>
      alice.delivered(dm.msgId) && bob.delivered(back.msgId) && bob.messages.some((m) => m.kind === 'pub' && m.text === 'anuncio cifrado para todos'),
    );
    expect(bob.messages.find((m) => m.msgId === dm.msgId)).toMatchObject({ from: 'alice@CIC', text: 'segredo da alice para o bob' });
    expect(bob.messages.find((m) => m.msgId === dm.msgId)?.unverified).toBeUndefined();
    expect(alice.messages.find((m) => m.msgId === back.msgId)).toMatchObject({ from: 'bob@CIC', text: 'resposta secreta do bob' });
    await waitFor('a PONG through the sealed channel', () => alice.engine.peers().find((p) => p.peerId === 'bob@CIC')?.lastRttMs !== undefined);
    await waitFor('carol has her DM', () => alice.delivered(toCarol.msgId));

    // Carol saw the standard protocol: plain SEND and PUB, not one handshake frame.
    expect(carol.of('SEND').map((f) => f.payload)).toContain('mensagem em claro para a carol');
    expect(carol.of('PUB').map((f) => f.payload)).toContain('anuncio cifrado para todos');
    expect(carol.frames.some((f) => f.type === 'NOISE' || f.type === 'SEALED')).toBe(false);
    expect(alice.security('carol@CIC')).toBe('plain');
    expect(alice.engine.keys().map((k) => k.peerId)).toEqual(['bob@CIC']);

    await stopSecureEngine(bob);
    await waitFor('bob said BYE', () => alice.logs.some((l) => l.includes('bob@CIC said BYE')));

    const [toBob, toAlice] = [proxy.lines('toTarget')[0]!, proxy.lines('toClient')[0]!];
    expect(JSON.parse(toBob[0]!)).toMatchObject({ type: 'HELLO', peer_id: 'alice@CIC' });
    expect(JSON.parse(toAlice[0]!)).toMatchObject({ type: 'HELLO_OK', peer_id: 'bob@CIC' });
    const after = [...toBob.slice(1), ...toAlice.slice(1)];
    expect(after.length).toBeGreaterThan(6);
    for (const line of after) {
      const frame = JSON.parse(line) as { type: string };
      expect(Object.keys(frame)).toEqual(['type', frame.type === 'NOISE' ? 'msg' : 'box']);
      expect(['NOISE', 'SEALED']).toContain(frame.type);
    }
    expect(after.slice(0, 2).map((l) => JSON.parse(l).type)).toEqual(['NOISE', 'NOISE']);
    const wire = after.join('\n');
    for (const secret of ['segredo da alice', 'resposta secreta', 'anuncio cifrado', 'alice@CIC', 'bob@CIC', dm.msgId, back.msgId, '"type":"SEND"', '"type":"BYE"', '"type":"PING"']) {
      expect(wire).not.toContain(secret);
    }
  });

  it('drops the peer on a flipped bit in a sealed frame, and the DM still arrives once', async () => {
    const attack = onNextSealedToBob((line) => {
      const flipped = Buffer.from(line);
      const at = line.indexOf('"box":"') + 20;
      flipped[at] = flipped[at] === 0x41 ? 0x42 : 0x41;
      return [flipped];
    });
    const { alice, bob, proxy } = await behindProxy(attack.tamper);
    await waitFor('sealed', () => sealed(alice, bob));
    attack.arm();
    const dm = alice.engine.sendDirect('bob@CIC', 'um bit vai mudar');
    await waitFor('bob dropped the connection', () => bob.logs.some((l) => l.includes('sealed frame does not open') && l.includes('dropping the connection')));
    await waitFor('delivered on the next connection', () => alice.delivered(dm.msgId));
    expect(proxy.captures.length).toBeGreaterThanOrEqual(2);
    expect(bob.messages.filter((m) => m.msgId === dm.msgId)).toHaveLength(1);
  });

  it('refuses a replayed sealed frame', async () => {
    const attack = onNextSealedToBob((line) => [line, line]);
    const { alice, bob } = await behindProxy(attack.tamper);
    await waitFor('sealed', () => sealed(alice, bob));
    attack.arm();
    const dm = alice.engine.sendDirect('bob@CIC', 'esta vai duas vezes');
    await waitFor('bob refused the copy', () => bob.logs.some((l) => l.includes('sealed frame does not open')));
    await waitFor('delivered', () => alice.delivered(dm.msgId));
    expect(bob.messages.filter((m) => m.text === 'esta vai duas vezes')).toHaveLength(1);
  });

  it('refuses sealed frames out of order', async () => {
    let held: Buffer | undefined;
    const attack = onNextSealedToBob((line) => {
      held = line;
      return [];
    });
    const tamper: Tamper = (line, index, direction) => {
      if (held !== undefined && direction === 'toTarget' && isSealed(line)) {
        const first = held;
        held = undefined;
        return [line, first];
      }
      return attack.tamper(line, index, direction);
    };
    const { alice, bob } = await behindProxy(tamper);
    await waitFor('sealed', () => sealed(alice, bob));
    attack.arm();
    const first = alice.engine.sendDirect('bob@CIC', 'primeira');
    await new Promise((r) => setTimeout(r, 30));
    const second = alice.engine.sendDirect('bob@CIC', 'segunda');
    await waitFor('bob refused the swapped frames', () => bob.logs.some((l) => l.includes('sealed frame does not open')));
    await waitFor('both delivered on the next connection', () => alice.delivered(first.msgId) && alice.delivered(second.msgId));
    expect(bob.messages.filter((m) => m.kind === 'dm').map((m) => m.text)).toEqual(['primeira', 'segunda']);
  });

  it.each([
    ['chatp2p-pipeline stripped from the HELLO', 'toTarget', 'chatp2p-pipeline'],
    ['metrics stripped from the HELLO_OK', 'toClient', 'metrics'],
  ] as const)('fails the handshake with %s, and sends nothing in the clear', async (_what, way, token) => {
    const strip: Tamper = (line, _index, direction) => {
      const text = line.toString('utf8');
      if (direction !== way || !text.includes('"type":"HELLO')) return [line];
      const frame = JSON.parse(text) as { features: string[] };
      return [Buffer.from(JSON.stringify({ ...frame, features: frame.features.filter((f) => f !== token) }))];
    };
    const { alice, bob, proxy } = await behindProxy(strip);
    alice.engine.sendDirect('bob@CIC', 'nunca em claro');
    await waitFor('two failed handshakes', () => alice.logs.filter((l) => l.includes('handshake failed')).length + bob.logs.filter((l) => l.includes('handshake failed')).length >= 2);
    expect(alice.security('bob@CIC')).toBeUndefined();
    expect(bob.messages).toHaveLength(0);
    expect(proxy.lines('toTarget').flat().join('\n')).not.toContain('nunca em claro');
  });
});

describe('a sealed connection that opens while our own dial to the peer still waits', () => {
  it('keeps the connection that opened, drops the dial, and does not go back to connecting', async () => {
    // Bob's dial reaches alice through a proxy that holds his first Noise frame; meanwhile alice
    // finds bob at an address that accepts and never answers, and dials it.
    const [rdvA, rdvB] = [await server(), await server()];
    const alice = await startSecureEngine(rdvA.port, 'alice', { overrides: { network: { handshakeTimeoutMs: 2_500 } } });
    const proxy = new LineProxy(alice.engine.status().listen.port);
    let held = false;
    proxy.tamper = (line, _index, direction) => {
      if (!held && direction === 'toTarget' && line.toString('utf8').startsWith('{"type":"NOISE"')) held = proxy.holding = true;
      return [line];
    };
    await proxy.listen();
    cleanup.push(() => proxy.close());
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.push(async () => {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    await register(rdvB.port, 'alice', 'CIC', proxy.port);
    const bob = await startSecureEngine(rdvB.port, 'bob', { overrides: { network: { handshakeTimeoutMs: 5_000 } } });
    await waitFor("bob's first Noise frame held", () => proxy.holding);
    await register(rdvA.port, 'bob', 'CIC', (silent.address() as AddressInfo).port);
    await waitFor('alice dials bob', () => alice.logs.some((l) => l.includes('Dialing bob@CIC')));
    proxy.release();
    await waitFor('sealed both ways', () => sealed(alice, bob));
    // Past the dial's HELLO_OK deadline: alice still has bob open, and is not dialing him again.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(alice.engine.peers().find((p) => p.peerId === 'bob@CIC')).toMatchObject({ state: 'open', security: 'encrypted' });
    expect(alice.logs.filter((l) => l.includes('Reconnecting to bob@CIC'))).toEqual([]);
    const dm = alice.engine.sendDirect('bob@CIC', 'pela conexao que abriu');
    await waitFor('delivered', () => alice.delivered(dm.msgId));
  });
});

/** A plaintext peer dialing alice from an attacker's address, claiming `peerId`. */
async function impostor(port: number, peerId: string): Promise<{ socket: Socket; lines: string[] }> {
  const lines: string[] = [];
  const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.10' });
  cleanup.push(async () => void socket.destroy());
  let rest = '';
  socket.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(JSON.stringify({ type: 'HELLO', peer_id: peerId, version: '1.0', features: ['ack'], ttl: 1 }) + '\n');
  await waitFor('HELLO_OK', () => lines.some((l) => l.includes('HELLO_OK')));
  return { socket, lines };
}

describe('chatp2p-secure trust on first use', () => {
  async function pinned(): Promise<{ alice: SecureEngine; bob: SecureEngine; rdv: TestServer }> {
    const rdv = await server();
    const alice = await startSecureEngine(rdv.port, 'alice');
    const bob = await startSecureEngine(rdv.port, 'bob');
    await waitFor('a sealed connection', () => sealed(alice, bob));
    return { alice, bob, rdv };
  }

  it('shows the same safety number on both sides, and lets the user mark it verified', async () => {
    const { alice, bob } = await pinned();
    const [ofBob] = alice.engine.keys('bob@CIC');
    const [ofAlice] = bob.engine.keys('alice@CIC');
    expect(ofBob!.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(ofBob!.safetyNumber).toBe(ofAlice!.safetyNumber);
    expect(ofBob!.fingerprint).toBe(bob.engine.identityFingerprint);
    expect(ofBob!.verified).toBe(false);
    expect(alice.engine.verifyKey('bob@CIC').verified).toBe(true);
    expect(alice.engine.keys('bob@CIC')[0]!.verified).toBe(true);
    expect(() => alice.engine.verifyKey('nobody@CIC')).toThrow(/not pinned|no key/);
  });

  it('marks a plaintext impostor of a pinned peer unverified, keeps its messages apart and gives it none of ours', async () => {
    const rdv = await server();
    const dir = mkdtempSync(join(tmpdir(), 'chatp2p-secure-'));
    const history = openMessageStore(join(dir, 'history.sqlite'));
    cleanup.push(async () => {
      history.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const alice = await startSecureEngine(rdv.port, 'alice', { store: history });
    const bob = await startSecureEngine(rdv.port, 'bob');
    await waitFor('a sealed connection', () => sealed(alice, bob));
    const real = bob.engine.sendDirect('alice@CIC', 'oi, sou eu mesmo');
    await waitFor('the real DM delivered', () => bob.delivered(real.msgId));
    await stopSecureEngine(bob);
    await waitFor('bob gone', () => alice.security('bob@CIC') === undefined);
    const fake = await impostor(alice.engine.status().listen.port, 'bob@CIC');
    await waitFor('the impostor is open, unverified', () => alice.security('bob@CIC') === 'unverified');
    const dm = alice.engine.sendDirect('bob@CIC', 'so para o bob de verdade');
    fake.socket.write(JSON.stringify({ type: 'SEND', msg_id: 'fake-1', src: 'bob@CIC', dst: 'alice@CIC', payload: 'sou o bob, confia', require_ack: true, ttl: 1 }) + '\n');
    await waitFor('the impostor message stored', () => alice.messages.some((m) => m.msgId === 'fake-1'));
    expect(alice.messages.find((m) => m.msgId === 'fake-1')).toMatchObject({ from: 'bob@CIC', unverified: true });
    // Bob's chat holds what his key sent and ours; the impostor's DM is in a chat of its own.
    const texts = (conversation: string) => history.page(conversation, { limit: 50 }).messages.map((m) => m.text);
    expect(texts('dm:bob@CIC')).toEqual(['oi, sou eu mesmo', 'so para o bob de verdade']);
    expect(texts('dm-unverified:bob@CIC')).toEqual(['sou o bob, confia']);
    expect(history.conversations().find((c) => c.key === 'dm-unverified:bob@CIC')).toMatchObject({ unread: 1 });
    await new Promise((r) => setTimeout(r, 1_200));
    expect(fake.lines.join('\n')).not.toContain('so para o bob de verdade');
    expect(alice.delivered(dm.msgId)).toBe(false);
    expect(alice.deliveries.filter((d) => d.msgId === dm.msgId).at(-1)?.error).toMatch(/without encryption/);
    expect(alice.logs.some((l) => l.startsWith('WARN') && l.includes('a downgrade'))).toBe(true);
  });

  it('lets the real peer in past a plaintext impostor: its pinned key wins the connection, and the outbox goes to it', async () => {
    const { alice, bob, rdv } = await pinned();
    await stopSecureEngine(bob);
    await waitFor('bob gone', () => alice.security('bob@CIC') === undefined);
    const fake = await impostor(alice.engine.status().listen.port, 'bob@CIC');
    await waitFor('the impostor is open, unverified', () => alice.security('bob@CIC') === 'unverified');
    const dm = alice.engine.sendDirect('bob@CIC', 'para o bob que tem a chave');
    const fakeClosed = new Promise<void>((resolve) => fake.socket.once('close', () => resolve()));
    // Bob comes back with the key alice pinned, finds her at the rendezvous and dials her.
    const realBob = await startSecureEngine(rdv.port, 'bob', { identity: bob.identity });
    await waitFor('delivered to the real bob', () => alice.delivered(dm.msgId), 10_000);
    expect(realBob.messages.map((m) => m.text)).toEqual(['para o bob que tem a chave']);
    expect(alice.security('bob@CIC')).toBe('encrypted');
    await fakeClosed;
    expect(fake.lines.join('\n')).not.toContain('para o bob que tem a chave');
    expect(alice.logs.some((l) => l.includes('the unverified connection from 127.0.0.10'))).toBe(true);
  });

  it('holds our outbox for a peer whose key changed until the user accepts the new key', async () => {
    const { alice, bob, rdv } = await pinned();
    await stopSecureEngine(bob);
    await waitFor('bob gone', () => alice.security('bob@CIC') === undefined);
    const newBob = await startSecureEngine(rdv.port, 'bob');
    await waitFor('the new key is seen', () => alice.security('bob@CIC') === 'key-changed');
    expect(alice.keys.at(-1)).toMatchObject({ peerId: 'bob@CIC', keyChanged: true });
    const dm = alice.engine.sendDirect('bob@CIC', 'espera pela chave nova');
    await new Promise((r) => setTimeout(r, 1_200));
    expect(newBob.messages).toHaveLength(0);
    expect(alice.deliveries.filter((d) => d.msgId === dm.msgId).at(-1)).toMatchObject({ state: 'queued', error: expect.stringMatching(/accept the new key/) });
    const accepted = alice.engine.acceptKey('bob@CIC');
    expect(accepted).toMatchObject({ keyChanged: false, fingerprint: newBob.engine.identityFingerprint });
    await waitFor('delivered after the accept', () => alice.delivered(dm.msgId));
    expect(newBob.messages.map((m) => m.text)).toEqual(['espera pela chave nova']);
    expect(alice.security('bob@CIC')).toBe('encrypted');
  });
});
