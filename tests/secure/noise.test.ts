// Our Noise against the published vectors (cacophony; the XX and IK ones, copied from the team's
// shared/data/noise-test-vectors.json), byte for byte: every handshake message,
// the handshake hash, and the transport messages after it.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HandshakeState, NoiseError, aead, aeadReady, generateKeyPair, keyPairFrom, libsodiumAead, nobleAead, nodeAead, type PatternName, type Transport } from '../../src-main/engine/secure/noise.ts';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const vectors = (JSON.parse(readFileSync(new URL('./noise-test-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] }).vectors;
const hex = (s: string) => Buffer.from(s, 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function replay(pattern: PatternName): void {
  const v = vectors.find((x) => x.protocol_name === `Noise_${pattern}_25519_ChaChaPoly_SHA256`)!;
  expect(v).toBeDefined();
  const respStatic = keyPairFrom(hex(v.resp_static!));
  const initiator = new HandshakeState({
    pattern,
    initiator: true,
    prologue: hex(v.init_prologue),
    staticKey: keyPairFrom(hex(v.init_static!)),
    ephemeralKey: keyPairFrom(hex(v.init_ephemeral)),
    remoteStatic: pattern === 'IK' ? respStatic.publicKey : undefined,
  });
  const responder = new HandshakeState({ pattern, initiator: false, prologue: hex(v.resp_prologue), staticKey: respStatic, ephemeralKey: keyPairFrom(hex(v.resp_ephemeral)) });
  let transports: [Transport, Transport] | undefined;
  v.messages.forEach((m, i) => {
    const fromInitiator = i % 2 === 0;
    if (transports === undefined) {
      const [writer, reader] = fromInitiator ? [initiator, responder] : [responder, initiator];
      const ciphertext = writer.writeMessage(hex(m.payload));
      expect(toHex(ciphertext), `message ${i}`).toBe(m.ciphertext);
      expect(toHex(reader.readMessage(ciphertext))).toBe(m.payload);
      if (initiator.finished && responder.finished) {
        transports = [initiator.transport(), responder.transport()];
        expect(toHex(transports[0].handshakeHash)).toBe(v.handshake_hash);
        expect(toHex(transports[1].handshakeHash)).toBe(v.handshake_hash);
        expect(toHex(transports[0].remoteStatic)).toBe(toHex(respStatic.publicKey));
      }
      return;
    }
    const [writer, reader] = fromInitiator ? transports : [transports[1], transports[0]];
    const ciphertext = writer.send.encryptWithAd(new Uint8Array(0), hex(m.payload));
    expect(toHex(ciphertext), `transport message ${i}`).toBe(m.ciphertext);
    expect(toHex(reader.receive.decryptWithAd(new Uint8Array(0), ciphertext))).toBe(m.payload);
  });
  expect(transports).toBeDefined();
}

describe('Noise', () => {
  it('reproduces the Noise_XX_25519_ChaChaPoly_SHA256 vectors', () => replay('XX'));
  it('reproduces the Noise_IK_25519_ChaChaPoly_SHA256 vectors', () => replay('IK'));

  function handshake(initiatorPrologue: string, responderPrologue: string): [Transport, Transport] {
    const enc = new TextEncoder();
    const i = new HandshakeState({ pattern: 'XX', initiator: true, prologue: enc.encode(initiatorPrologue), staticKey: generateKeyPair() });
    const r = new HandshakeState({ pattern: 'XX', initiator: false, prologue: enc.encode(responderPrologue), staticKey: generateKeyPair() });
    r.readMessage(i.writeMessage());
    i.readMessage(r.writeMessage());
    r.readMessage(i.writeMessage());
    return [i.transport(), r.transport()];
  }

  it("runs node:crypto's ChaCha20-Poly1305 here; libsodium's (the one Electron runs) and @noble's (until it loads) seal byte for byte as it", async () => {
    expect(await aeadReady).toBeUndefined();
    expect(aead).toBe(nodeAead);
    const sodium = await libsodiumAead();
    expect(sodium.name).toBe('libsodium');
    const impls = [nodeAead, sodium, nobleAead];
    for (const size of [0, 1, 63, 64, 65, 24_000]) {
      const [k, nonce, ad, plaintext] = [randomBytes(32), randomBytes(12), randomBytes(size % 40), randomBytes(size)];
      const sealed = nodeAead.seal(k, nonce, ad, plaintext);
      for (const impl of impls) {
        expect(Buffer.from(impl.seal(k, nonce, ad, plaintext))).toEqual(Buffer.from(sealed));
        expect(Buffer.from(impl.open(k, nonce, ad, sealed))).toEqual(plaintext);
      }
      const altered = Uint8Array.from(sealed);
      altered[altered.length - 1]! ^= 1;
      for (const impl of impls) expect(() => impl.open(k, nonce, ad, altered)).toThrow();
    }
  });

  it('fails the handshake when the two sides saw different prologues', () => {
    expect(() => handshake('HELLO a', 'HELLO b')).toThrow(NoiseError);
  });

  it('refuses a replayed, reordered or altered transport message, and still opens the next good one', () => {
    const [i, r] = handshake('p', 'p');
    const ad = new Uint8Array(0);
    const first = i.send.encryptWithAd(ad, Buffer.from('one'));
    const second = i.send.encryptWithAd(ad, Buffer.from('two'));
    expect(() => r.receive.decryptWithAd(ad, second)).toThrow(NoiseError);
    expect(Buffer.from(r.receive.decryptWithAd(ad, first)).toString()).toBe('one');
    expect(() => r.receive.decryptWithAd(ad, first)).toThrow(NoiseError);
    const flipped = Uint8Array.from(second);
    flipped[0]! ^= 1;
    expect(() => r.receive.decryptWithAd(ad, flipped)).toThrow(NoiseError);
    expect(Buffer.from(r.receive.decryptWithAd(ad, second)).toString()).toBe('two');
  });
});
