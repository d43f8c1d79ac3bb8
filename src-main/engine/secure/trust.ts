// Whom a chatp2p-secure key belongs to: trust on first use, pinned in the profile's history.
// - The first secure session with a peer_id pins its key; later ones must show the same key.
// - A different key is never taken silently: the peer is `key-changed` and our DMs wait until the
//   user accepts the new key.
// - A plaintext connection claiming a pinned peer_id is a downgrade: `unverified`, kept apart.
//   A peer that was never secure with us is just `plain`, whatever it advertised.

import { sha512 } from '@noble/hashes/sha2.js';
import type { PeerKeyView, PeerSecurity } from '../api.ts';
import type { ModuleLogger } from '../log.ts';
import type { MessageStore, PinnedKey } from '../store/store.ts';

const SAFETY_NUMBER_ITERATIONS = 5200;

/** Whether a connection may have our outbox and its messages count as the peer's own. */
export const isTrusted = (security: PeerSecurity): boolean => security === 'encrypted' || security === 'plain';

const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

/** A key as people compare it aloud: hex in groups of four. */
export function fingerprint(keyHex: string): string {
  return keyHex.match(/.{1,4}/g)!.join(' ');
}

/**
 * Half a safety number, as Signal builds it: an iterated hash of the key and the peer_id it
 * speaks for, read as six 5-digit groups.
 */
function safetyHalf(keyHex: string, peerId: string): string {
  const key = Buffer.from(keyHex, 'hex');
  let digest = sha512(Buffer.concat([Buffer.from([0, 0]), key, Buffer.from(peerId, 'utf8')]));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) digest = sha512(Buffer.concat([digest, key]));
  const groups: string[] = [];
  for (let i = 0; i < 30; i += 5) {
    const chunk = Buffer.from(digest.subarray(i, i + 5)).readUIntBE(0, 5);
    groups.push(String(chunk % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}

/** 60 digits in 12 groups: both halves, in an order that does not depend on who computes it. */
export function safetyNumber(a: { peerId: string; key: string }, b: { peerId: string; key: string }): string {
  return [safetyHalf(a.key, a.peerId), safetyHalf(b.key, b.peerId)].sort().join(' ');
}

export class Trust {
  private readonly store: MessageStore;
  private readonly local: { peerId: string; key: string };
  private readonly now: () => number;
  private readonly log: ModuleLogger;
  private readonly onChange: (view: PeerKeyView) => void;

  constructor(options: { store: MessageStore; localPeerId: string; localKey: Uint8Array; now: () => number; log: ModuleLogger; onChange(view: PeerKeyView): void }) {
    this.store = options.store;
    this.local = { peerId: options.localPeerId, key: hex(options.localKey) };
    this.now = options.now;
    this.log = options.log;
    this.onChange = options.onChange;
  }

  get localFingerprint(): string {
    return fingerprint(this.local.key);
  }

  /** What a connection that just opened is, from the key it proved (undefined: it is plaintext). */
  verdict(peerId: string, remoteKey: Uint8Array | undefined): PeerSecurity {
    const pin = this.store.peerKey(peerId);
    if (remoteKey === undefined) {
      if (pin === undefined) return 'plain';
      this.log.warn(`${peerId} connected in plain text, but its key was pinned: a downgrade. Its messages are marked unverified and it gets none of ours`);
      return 'unverified';
    }
    const key = hex(remoteKey);
    if (pin === undefined) {
      this.save({ peerId, key, pinnedAt: this.now(), verified: false, offeredKey: undefined });
      this.log.info(`Pinned the identity key of ${peerId}: ${fingerprint(key)}`);
      return 'encrypted';
    }
    if (pin.key === key) return 'encrypted';
    if (pin.offeredKey !== key) this.save({ ...pin, offeredKey: key });
    this.log.warn(`${peerId} shows a different identity key (${fingerprint(key)}, pinned ${fingerprint(pin.key)}): our messages wait until it is accepted`);
    return 'key-changed';
  }

  /** The pinned key of one peer, or of every peer. */
  keys(peerId?: string): PeerKeyView[] {
    const pins = peerId === undefined ? this.store.peerKeys() : [this.store.peerKey(peerId)].filter((p) => p !== undefined);
    return pins.map((pin) => this.view(pin));
  }

  /** The user accepts the key a pinned peer now shows; false when no new key waits. */
  accept(peerId: string): PeerKeyView | undefined {
    const pin = this.store.peerKey(peerId);
    if (pin?.offeredKey === undefined) return undefined;
    this.log.info(`Accepted the new identity key of ${peerId}: ${fingerprint(pin.offeredKey)}`);
    return this.save({ peerId, key: pin.offeredKey, pinnedAt: this.now(), verified: false, offeredKey: undefined });
  }

  /** The user compared safety numbers (or takes that back). */
  verify(peerId: string, verified: boolean): PeerKeyView | undefined {
    const pin = this.store.peerKey(peerId);
    if (pin === undefined) return undefined;
    return this.save({ ...pin, verified });
  }

  private save(pin: PinnedKey): PeerKeyView {
    this.store.savePeerKey(pin);
    const view = this.view(pin);
    this.onChange(view);
    return view;
  }

  private view(pin: PinnedKey): PeerKeyView {
    return {
      peerId: pin.peerId,
      fingerprint: fingerprint(pin.key),
      safetyNumber: safetyNumber(this.local, { peerId: pin.peerId, key: pin.key }),
      verified: pin.verified,
      pinnedAt: pin.pinnedAt,
      keyChanged: pin.offeredKey !== undefined,
    };
  }
}
