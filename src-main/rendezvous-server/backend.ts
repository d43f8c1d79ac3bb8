// What the rendezvous server keeps: the registry and the per-IP rate limit, behind one interface
// with two implementations chosen at start: SQLite in this process (the default), or Redis shared
// by many instances. The protocol handler never sees which.
//
// Each method is one atomic step and, on Redis, one round trip: a request that checks "the IP
// holds a live record" and then lists or removes records does both in the same call.

import type { Admission } from './rate-limiter.ts';

/** One live registration, as DISCOVER lists it. */
export interface PeerEntry {
  readonly ip: string;
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  readonly ttl: number;
  /** Epoch milliseconds on the backend's clock. */
  readonly expiresAt: number;
}

export interface Listing {
  /** The backend's clock when it listed, epoch milliseconds: `expires_in` is counted from it. */
  now: number;
  /** Live records in order of their last REGISTER. */
  peers: readonly PeerEntry[];
}

/** Which records a DISCOVER lists once the IP is known to be registered. */
export type DiscoverSelection = { all: true } | { namespace: string } | 'none';

/** What an UNREGISTER removes: the caller's live records in `namespace` matching `name`/`port` when given. */
export interface UnregisterMatch {
  namespace: string;
  name?: string;
  port?: number;
}

export interface RendezvousBackend {
  /** The rate limit, at connect. */
  admit(ip: string): Promise<Admission>;
  register(ip: string, namespace: string, name: string, port: number, ttl: number): Promise<void>;
  /** `undefined` when `ip` holds no live record; otherwise what `selection` lists ('none': nothing). */
  discover(ip: string, selection: DiscoverSelection): Promise<Listing | undefined>;
  /** `undefined` when `ip` holds no live record; otherwise how many records were removed ('none': 0). */
  unregister(ip: string, match: UnregisterMatch | 'none'): Promise<number | undefined>;
  /** Drops what has expired; returns how many registrations went. */
  sweep(): Promise<number>;
  /** Registrations held: exact on SQLite, as of the last sweep on Redis. */
  readonly registrations: number;
  readonly maxConnections: number;
  close(): Promise<void>;
}

/**
 * The backend could not do its part (Redis down, say). The request is answered with this error's
 * message; the backend has already logged the cause, at most once a second.
 */
export class BackendUnavailableError extends Error {}
