// The Noise Protocol Framework (revision 34), for Noise_XX_25519_ChaChaPoly_SHA256 (the handshake
// chatp2p-secure uses) and the IK pattern the same state machine gives for free. The primitives are
// @noble's pure-TypeScript ones, but for ChaCha20-Poly1305, which seals every file chunk: node:crypto's
// (OpenSSL) whenever the runtime has it, and libsodium's WebAssembly build where it does not, as in
// Electron, whose BoringSSL-based node:crypto lacks it (twice as fast as @noble's there; its chunk
// boxes go to a worker thread, secure/box-worker.ts); @noble's until libsodium has loaded, or if it
// cannot. All are RFC 8439, byte for byte: tests/secure/noise.test.ts checks the cacophony test
// vectors and the three against each other.

import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

const DHLEN = 32;
const HASHLEN = 32;
const TAGLEN = 16;
/** Noise's limit for any message, handshake or transport. */
export const MAX_NOISE_MESSAGE = 65535;
const EMPTY = new Uint8Array(0);

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  return keyPairFrom(x25519.utils.randomSecretKey());
}

export function keyPairFrom(secretKey: Uint8Array): KeyPair {
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export class NoiseError extends Error {}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** ChaCha20-Poly1305 with a 16-byte tag after the ciphertext; `open` throws when the tag does not match. */
export interface Aead {
  name: 'node:crypto' | 'libsodium' | '@noble';
  seal(k: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  open(k: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export const nodeAead: Aead = {
  name: 'node:crypto',
  seal(k, nonce, ad, plaintext) {
    const cipher = createCipheriv('chacha20-poly1305', k, nonce, { authTagLength: TAGLEN });
    cipher.setAAD(ad, { plaintextLength: plaintext.length });
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  },
  open(k, nonce, ad, ciphertext) {
    const body = ciphertext.length - TAGLEN;
    const decipher = createDecipheriv('chacha20-poly1305', k, nonce, { authTagLength: TAGLEN });
    decipher.setAAD(ad, { plaintextLength: body });
    decipher.setAuthTag(ciphertext.subarray(body));
    const plaintext = decipher.update(ciphertext.subarray(0, body));
    // A stream cipher: final() adds no byte, it checks the tag (and throws when it does not match).
    decipher.final();
    return plaintext;
  },
};

/** libsodium's, once its WebAssembly module is instantiated (loaded only by a runtime that needs it). */
export async function libsodiumAead(): Promise<Aead> {
  const { default: sodium } = await import('libsodium-wrappers');
  await sodium.ready;
  return {
    name: 'libsodium',
    seal: (k, nonce, ad, plaintext) => sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, k),
    open: (k, nonce, ad, ciphertext) => sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, k),
  };
}

/** @noble's, in pure TypeScript: where node:crypto lacks the cipher, until libsodium's has loaded (or for good if it cannot). */
export const nobleAead: Aead = {
  name: '@noble',
  seal: (k, nonce, ad, plaintext) => chacha20poly1305(k, nonce, ad).encrypt(plaintext),
  open: (k, nonce, ad, ciphertext) => chacha20poly1305(k, nonce, ad).decrypt(ciphertext),
};

const nativeCipher = getCiphers().includes('chacha20-poly1305');

/**
 * The implementation this runtime uses: node:crypto's where it has the cipher; elsewhere (Electron)
 * libsodium's once `aeadReady` settles, and @noble's until then. All three seal the same bytes, so
 * a session may begin on one and go on with another. Not a top-level await: the desktop app's main
 * imports this, and Electron emits `ready` only once main has finished evaluating, so a WebAssembly
 * module that failed to load would keep the app from ever starting.
 */
export let aead: Aead = nativeCipher ? nodeAead : nobleAead;

/** Settles once `aead` is the one to keep (Engine.start waits for it), with why libsodium could not load, if it could not. */
export const aeadReady: Promise<Error | undefined> = nativeCipher
  ? Promise.resolve(undefined)
  : libsodiumAead().then(
      (loaded) => {
        aead = loaded;
        return undefined;
      },
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );

/** A key and its nonce counter: each nonce is used once, in order, so a replayed or reordered message cannot open. */
export class CipherState {
  private k: Uint8Array | undefined;
  private n = 0;
  private readonly nonce = new Uint8Array(12);

  constructor(k?: Uint8Array) {
    this.k = k;
  }

  get hasKey(): boolean {
    return this.k !== undefined;
  }

  initializeKey(k: Uint8Array): void {
    this.k = k;
    this.n = 0;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.k === undefined) return plaintext;
    return aead.seal(this.k, this.nextNonce(), ad, plaintext);
  }

  /** Throws NoiseError when the message does not open; the counter moves only when it does. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.k === undefined) return ciphertext;
    if (ciphertext.length < TAGLEN) throw new NoiseError('message shorter than its tag');
    try {
      const plaintext = aead.open(this.k, this.nonceBytes(), ad, ciphertext);
      this.n += 1;
      return plaintext;
    } catch {
      throw new NoiseError('message does not open (altered, replayed, reordered or wrong key)');
    }
  }

  /**
   * For a box sealed or opened elsewhere (a worker thread): the key and the next nonce, taken now,
   * so that the counter follows the order of the boxes on the wire.
   */
  take(): { k: Uint8Array; nonce: Uint8Array } {
    if (this.k === undefined) throw new NoiseError('no key yet');
    return { k: this.k, nonce: this.nextNonce().slice() };
  }

  private nextNonce(): Uint8Array {
    const nonce = this.nonceBytes();
    this.n += 1;
    return nonce;
  }

  /** 32 bits of zeros, then the counter as 64 bits little-endian. */
  private nonceBytes(): Uint8Array {
    // The spec stops at 2^64-1; a number is exact up to 2^53, far more messages than a session sends.
    if (this.n >= Number.MAX_SAFE_INTEGER) throw new NoiseError('nonces exhausted');
    const view = new DataView(this.nonce.buffer);
    view.setUint32(4, this.n >>> 0, true);
    view.setUint32(8, Math.floor(this.n / 2 ** 32), true);
    return this.nonce;
  }
}

class SymmetricState {
  readonly cipher = new CipherState();
  private ck: Uint8Array;
  h: Uint8Array;

  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    this.h = name.length <= HASHLEN ? concat(name, new Uint8Array(HASHLEN - name.length)) : sha256(name);
    this.ck = this.h;
  }

  mixKey(ikm: Uint8Array): void {
    // Noise's HKDF(ck, ikm, 2) is RFC 5869 HKDF with ck as the salt and no info.
    const out = hkdf(sha256, ikm, this.ck, EMPTY, 2 * HASHLEN);
    this.ck = out.slice(0, HASHLEN);
    this.cipher.initializeKey(out.slice(HASHLEN, HASHLEN + 32));
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(concat(this.h, data));
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  split(): [CipherState, CipherState] {
    const out = hkdf(sha256, EMPTY, this.ck, EMPTY, 2 * HASHLEN);
    return [new CipherState(out.slice(0, 32)), new CipherState(out.slice(HASHLEN, HASHLEN + 32))];
  }
}

type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

interface Pattern {
  /** The responder's static key is known beforehand (`<- s`). */
  responderStaticKnown: boolean;
  messages: Token[][];
}

const PATTERNS = {
  XX: { responderStaticKnown: false, messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
  IK: { responderStaticKnown: true, messages: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']] },
} satisfies Record<string, Pattern>;

export type PatternName = keyof typeof PATTERNS;

export interface HandshakeOptions {
  pattern: PatternName;
  initiator: boolean;
  prologue: Uint8Array;
  staticKey: KeyPair;
  /** IK's initiator knows the responder's static key. */
  remoteStatic?: Uint8Array;
  /** Tests only: the published vectors fix the ephemeral key. */
  ephemeralKey?: KeyPair;
}

/** The transport after a handshake: `send` seals what we write, `receive` opens what the peer wrote. */
export interface Transport {
  send: CipherState;
  receive: CipherState;
  remoteStatic: Uint8Array;
  handshakeHash: Uint8Array;
}

export class HandshakeState {
  private readonly ss: SymmetricState;
  private readonly initiator: boolean;
  private readonly s: KeyPair;
  private e: KeyPair | undefined;
  private rs: Uint8Array | undefined;
  private re: Uint8Array | undefined;
  private readonly messages: Token[][];
  private step = 0;

  constructor(options: HandshakeOptions) {
    const pattern: Pattern = PATTERNS[options.pattern];
    this.ss = new SymmetricState(`Noise_${options.pattern}_25519_ChaChaPoly_SHA256`);
    this.initiator = options.initiator;
    this.s = options.staticKey;
    this.e = options.ephemeralKey;
    this.rs = options.remoteStatic;
    this.messages = pattern.messages;
    this.ss.mixHash(options.prologue);
    if (pattern.responderStaticKnown) {
      const responderStatic = this.initiator ? this.rs : this.s.publicKey;
      if (responderStatic === undefined) throw new NoiseError('this pattern needs the responder static key');
      this.ss.mixHash(responderStatic);
    }
  }

  /** Whose turn it is: true when the next handshake message is ours to write. */
  get ourTurn(): boolean {
    return (this.step % 2 === 0) === this.initiator;
  }

  get finished(): boolean {
    return this.step >= this.messages.length;
  }

  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    if (this.finished || !this.ourTurn) throw new NoiseError('not our turn to write');
    const parts: Uint8Array[] = [];
    for (const token of this.messages[this.step++]!) {
      if (token === 'e') {
        this.e ??= generateKeyPair();
        parts.push(this.e.publicKey);
        this.ss.mixHash(this.e.publicKey);
      } else if (token === 's') {
        parts.push(this.ss.encryptAndHash(this.s.publicKey));
      } else {
        this.ss.mixKey(this.dh(token));
      }
    }
    parts.push(this.ss.encryptAndHash(payload));
    return concat(...parts);
  }

  /** Returns the payload; throws NoiseError for a message that is malformed or does not open. */
  readMessage(message: Uint8Array): Uint8Array {
    if (this.finished || this.ourTurn) throw new NoiseError('not the peer\'s turn to write');
    if (message.length > MAX_NOISE_MESSAGE) throw new NoiseError('message over the Noise limit');
    let at = 0;
    const take = (n: number) => {
      if (at + n > message.length) throw new NoiseError('handshake message too short');
      const part = message.subarray(at, at + n);
      at += n;
      return part;
    };
    for (const token of this.messages[this.step++]!) {
      if (token === 'e') {
        this.re = take(DHLEN).slice();
        this.ss.mixHash(this.re);
      } else if (token === 's') {
        this.rs = this.ss.decryptAndHash(take(this.ss.cipher.hasKey ? DHLEN + TAGLEN : DHLEN)).slice();
      } else {
        this.ss.mixKey(this.dh(token));
      }
    }
    return this.ss.decryptAndHash(message.subarray(at));
  }

  /** After the last message: the two transport ciphers, ours to send first. */
  transport(): Transport {
    if (!this.finished || this.rs === undefined) throw new NoiseError('handshake not finished');
    const [i2r, r2i] = this.ss.split();
    return { send: this.initiator ? i2r : r2i, receive: this.initiator ? r2i : i2r, remoteStatic: this.rs, handshakeHash: this.ss.h };
  }

  private dh(token: 'ee' | 'es' | 'se' | 'ss'): Uint8Array {
    // The first letter is the initiator's key, the second the responder's.
    const [mine, theirs] = this.initiator ? [token[0], token[1]] : [token[1], token[0]];
    const local = mine === 'e' ? this.e : this.s;
    const remote = theirs === 'e' ? this.re : this.rs;
    if (local === undefined || remote === undefined) throw new NoiseError(`no key for ${token}`);
    try {
      return x25519.getSharedSecret(local.secretKey, remote);
    } catch {
      // noble refuses low-order points (an all-zero shared secret).
      throw new NoiseError('invalid public key');
    }
  }
}
