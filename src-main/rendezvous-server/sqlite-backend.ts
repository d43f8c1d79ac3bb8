// The default backend: the registry in memory with its SQLite file, the rate limit in memory; one
// process holds both, so every step is atomic by construction.

import type { DiscoverSelection, Listing, RendezvousBackend, UnregisterMatch } from './backend.ts';
import { RateLimiter, type Admission } from './rate-limiter.ts';
import { Registry } from './registry.ts';

export interface SqliteBackendOptions {
  /** A file, or ':memory:' for registrations that do not outlive the process. */
  db: string;
  maxConnections: number;
  windowMs: number;
  blockMs: number;
  now: () => number;
}

export class SqliteBackend implements RendezvousBackend {
  private readonly registry: Registry;
  private readonly limiter: RateLimiter;
  private readonly now: () => number;

  constructor(options: SqliteBackendOptions) {
    this.now = options.now;
    this.registry = new Registry(options.db, this.now());
    this.limiter = new RateLimiter(options.maxConnections, options.windowMs, options.blockMs);
  }

  get maxConnections(): number {
    return this.limiter.maxConnections;
  }

  get registrations(): number {
    return this.registry.size;
  }

  async admit(ip: string): Promise<Admission> {
    return this.limiter.admit(ip, this.now());
  }

  register(ip: string, namespace: string, name: string, port: number, ttl: number): Promise<void> {
    this.registry.register(ip, namespace, name, port, ttl, this.now());
    return this.committed();
  }

  async discover(ip: string, selection: DiscoverSelection): Promise<Listing | undefined> {
    const now = this.now();
    if (!this.registry.hasLiveRecord(ip, now)) return undefined;
    if (selection === 'none') return { now, peers: [] };
    return { now, peers: this.registry.live(now, 'namespace' in selection ? selection.namespace : undefined) };
  }

  async unregister(ip: string, match: UnregisterMatch | 'none'): Promise<number | undefined> {
    const now = this.now();
    if (!this.registry.hasLiveRecord(ip, now)) return undefined;
    if (match === 'none') return 0;
    const removed = this.registry.unregister(ip, match.namespace, now, match.name, match.port);
    await this.committed();
    return removed;
  }

  async sweep(): Promise<number> {
    const now = this.now();
    this.limiter.sweep(now);
    return this.registry.sweep(now);
  }

  async close(): Promise<void> {
    this.registry.close();
  }

  /** A change is answered only once its group commit is on disk. */
  private committed(): Promise<void> {
    return new Promise((resolve, reject) => this.registry.whenCommitted((err) => (err ? reject(err) : resolve())));
  }
}
