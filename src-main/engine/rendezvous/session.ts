// Our registration with the rendezvous server over time: REGISTER at start and before the TTL
// runs out, DISCOVER on a period and on demand, UNREGISTER at the end. Every request goes through
// a budget so that even many peers behind one IP stay far below the server's 50 per minute.

import type { RegistrationState, RegistrationView } from '../api.ts';
import type { ModuleLogger } from '../log.ts';
import { RendezvousError, describeServerError, rendezvousRequest, type RendezvousEndpoint } from './client.ts';

export interface DiscoveredPeer {
  peerId: string;
  name: string;
  namespace: string;
  ip: string;
  port: number;
  expiresIn: number;
}

const WINDOW_MS = 60_000;
/** An on-demand DISCOVER this soon after the last one reuses its answer. */
const DISCOVER_MIN_GAP_MS = 1_000;
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 60_000;

/** A sliding-window budget of requests per minute, paused while the server blocks us. */
export class RequestBudget {
  private readonly sent: number[] = [];
  private blockedUntil = 0;
  private readonly max: number;
  private readonly now: () => number;
  constructor(maxPerMinute: number, now: () => number) {
    this.max = maxPerMinute;
    this.now = now;
  }

  block(untilMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, untilMs);
  }

  /** Milliseconds to wait before the next request may go; 0 takes a slot now. */
  take(): number {
    const now = this.now();
    while (this.sent.length > 0 && this.sent[0]! <= now - WINDOW_MS) this.sent.shift();
    if (this.blockedUntil > now) return this.blockedUntil - now;
    if (this.sent.length >= this.max) return this.sent[0]! + WINDOW_MS - now;
    this.sent.push(now);
    return 0;
  }
}

export interface RendezvousSessionOptions {
  endpoint: RendezvousEndpoint;
  name: string;
  namespace: string;
  /** Our listening port, known once the peer server is bound. */
  port: () => number;
  ttl: number;
  discoverIntervalMs: number;
  maxRequestsPerMinute: number;
  log: ModuleLogger;
  now: () => number;
  onRegistration: (view: RegistrationView) => void;
  onDiscovered: (peers: DiscoveredPeer[]) => void;
}

export class RendezvousSession {
  private readonly o: RendezvousSessionOptions;
  private readonly budget: RequestBudget;
  private view: RegistrationView;
  private renewTimer: NodeJS.Timeout | undefined;
  private discoverTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private inflightDiscover: Promise<DiscoveredPeer[]> | undefined;
  /** The REGISTER in flight: a DISCOVER waits for it rather than race it. */
  private registering: Promise<void> | undefined;
  private lastDiscover: { at: number; peers: DiscoveredPeer[] } | undefined;
  private stopped = false;
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(options: RendezvousSessionOptions) {
    this.o = options;
    this.budget = new RequestBudget(options.maxRequestsPerMinute, options.now);
    this.view = {
      state: 'unregistered',
      server: `${options.endpoint.host}:${options.endpoint.port}`,
      ip: undefined,
      ttl: undefined,
      expiresAt: undefined,
      error: undefined,
      retryAt: undefined,
      unreachableSince: undefined,
    };
  }

  get registration(): RegistrationView {
    return { ...this.view };
  }

  /** Registers, then discovers now and every discover interval. */
  start(): void {
    void this.register();
    this.discoverTimer = setInterval(() => {
      if (this.view.state === 'registered') void this.discover().catch(() => undefined);
    }, this.o.discoverIntervalMs);
  }

  /** DISCOVER now (on demand); a request in flight, or one a moment ago, answers for it. */
  discover(): Promise<DiscoveredPeer[]> {
    if (this.inflightDiscover) return this.inflightDiscover;
    if (this.lastDiscover && this.o.now() - this.lastDiscover.at < DISCOVER_MIN_GAP_MS) return Promise.resolve(this.lastDiscover.peers);
    this.inflightDiscover = this.doDiscover().finally(() => (this.inflightDiscover = undefined));
    return this.inflightDiscover;
  }

  /** Ends the session; UNREGISTERs if we are registered. Never throws. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.discoverTimer);
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.resolve();
    }
    // A REGISTER still in flight would leave our record behind: let it land, then take it back.
    if (this.registering) {
      await this.registering.catch(() => undefined);
      clearTimeout(this.renewTimer);
      clearTimeout(this.retryTimer);
    }
    if (this.view.state !== 'registered') return;
    // Outside the budget: it is the last request, and leaving must not wait for a free slot.
    try {
      await rendezvousRequest(this.o.endpoint, { type: 'UNREGISTER', namespace: this.o.namespace, name: this.o.name, port: this.o.port() });
      this.o.log.info(`UNREGISTER ${this.o.name}@${this.o.namespace} -> OK`);
    } catch (err) {
      this.o.log.warn(`UNREGISTER failed: ${this.describe(err)}`);
    }
    this.update({ state: 'unregistered', expiresAt: undefined, retryAt: undefined });
  }

  private register(): Promise<void> {
    this.registering = this.doRegister().finally(() => (this.registering = undefined));
    return this.registering;
  }

  private async doRegister(): Promise<void> {
    clearTimeout(this.renewTimer);
    clearTimeout(this.retryTimer);
    if (this.view.state !== 'registered') this.update({ state: 'registering' });
    try {
      await this.spend();
      const reply = await rendezvousRequest(this.o.endpoint, {
        type: 'REGISTER',
        namespace: this.o.namespace,
        name: this.o.name,
        port: this.o.port(),
        ttl: this.o.ttl,
      });
      const ttl = typeof reply.ttl === 'number' && reply.ttl > 0 ? reply.ttl : this.o.ttl;
      const ip = typeof reply.ip === 'string' ? reply.ip : undefined;
      const first = this.view.state !== 'registered';
      this.failures = 0;
      this.update({ state: 'registered', ip, ttl, expiresAt: this.o.now() + ttl * 1000, error: undefined, retryAt: undefined, unreachableSince: undefined });
      this.o.log.info(`REGISTER ${this.o.name}@${this.o.namespace} port ${this.o.port()} -> OK, seen as ${ip ?? '?'}, ttl ${ttl} s`);
      // Stopped meanwhile: the server has our record all the same, and stop() takes it back.
      if (this.stopped) return;
      // Renew at 80% of the TTL, so one lost request still leaves time for another.
      this.renewTimer = setTimeout(() => void this.register(), Math.max(1000, ttl * 800));
      if (first) void this.discover().catch(() => undefined);
    } catch (err) {
      if (this.stopped) return;
      this.onFailure('REGISTER', err);
    }
  }

  private async doDiscover(): Promise<DiscoveredPeer[]> {
    try {
      // Not registered and no REGISTER on its way (a retry is scheduled): register first, now.
      if (this.view.state !== 'registered') await (this.registering ?? this.register());
      await this.spend();
      const reply = await rendezvousRequest(this.o.endpoint, { type: 'DISCOVER' });
      const peers = readPeers(reply.peers);
      this.lastDiscover = { at: this.o.now(), peers };
      this.o.log.debug(`DISCOVER -> ${peers.length} peers`);
      if (!this.stopped) this.answered();
      if (!this.stopped) this.o.onDiscovered(peers);
      // The server answers DISCOVER for any registered peer of our IP, so a server that restarted
      // without our record may still answer us: our own entry missing is the sign.
      if (!this.stopped && this.view.state === 'registered' && !peers.some((p) => this.isOwnRecord(p))) {
        this.o.log.warn('DISCOVER: our record is not on the rendezvous server any more; registering again');
        this.update({ state: 'registering' });
        void this.register();
      }
      return peers;
    } catch (err) {
      if (!this.stopped) {
        if (err instanceof RendezvousError && err.code === 'server' && err.message.startsWith('peer_not_registered')) {
          // The server forgot us (it restarted, or our record expired): register again.
          this.o.log.warn('DISCOVER: the rendezvous server no longer has our registration; registering again');
          this.update({ state: 'registering' });
          void this.register();
        } else {
          this.onFailure('DISCOVER', err);
        }
      }
      throw err;
    }
  }

  private onFailure(request: 'REGISTER' | 'DISCOVER', err: unknown): void {
    const message = this.describe(err);
    const code = err instanceof RendezvousError ? err.code : 'bad_reply';
    if (code === 'unreachable' || code === 'timeout' || code === 'no_reply') this.update({ unreachableSince: this.view.unreachableSince ?? this.o.now(), error: message });
    else this.answered();
    if (code === 'blocked') {
      const retryAfter = (err as RendezvousError).retryAfterMs! + 1000;
      this.budget.block(this.o.now() + retryAfter);
      this.o.log.warn(`${request}: ${message}`);
      if (request === 'REGISTER' || this.view.state !== 'registered') this.scheduleRegister('blocked', message, retryAfter);
      return;
    }
    if (code === 'server' && request === 'REGISTER') {
      // The server refused our identity: retrying the same request cannot help.
      this.o.log.error(`REGISTER refused: ${message}`);
      this.update({ state: 'refused', error: message, retryAt: undefined });
      return;
    }
    this.o.log.warn(`${request} failed: ${message}`);
    if (code === 'no_reply') this.budget.block(this.o.now() + WINDOW_MS);
    if (request === 'REGISTER') {
      this.failures += 1;
      this.scheduleRegister('unreachable', message, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1)));
    }
  }

  private scheduleRegister(state: RegistrationState, error: string, delayMs: number): void {
    clearTimeout(this.retryTimer);
    const keepRegistered = this.view.state === 'registered' && (this.view.expiresAt ?? 0) > this.o.now() + delayMs;
    this.update({ state: keepRegistered ? 'registered' : state, error, retryAt: this.o.now() + delayMs });
    this.retryTimer = setTimeout(() => void this.register(), delayMs);
  }

  /** Waits for the request budget; rejects if the session stops meanwhile. */
  private async spend(): Promise<void> {
    for (let wait = this.budget.take(); wait > 0; wait = this.budget.take()) {
      if (this.stopped) throw new RendezvousError('unreachable', 'stopped');
      this.o.log.debug(`request budget spent: waiting ${Math.ceil(wait / 1000)} s`);
      await new Promise<void>((resolve) => {
        const w = { timer: setTimeout(() => (this.waits.delete(w), resolve()), wait), resolve };
        this.waits.add(w);
      });
    }
    if (this.stopped) throw new RendezvousError('unreachable', 'stopped');
  }

  private describe(err: unknown): string {
    if (err instanceof RendezvousError) return err.code === 'server' ? describeServerError(err.message) : err.message;
    return String(err);
  }

  private isOwnRecord(p: DiscoveredPeer): boolean {
    return p.name === this.o.name && p.namespace === this.o.namespace && p.port === this.o.port() && (this.view.ip === undefined || p.ip === this.view.ip);
  }

  /** The server answered (even with an error): after a silence, it is reachable again. */
  private answered(): void {
    if (this.view.unreachableSince !== undefined) this.update({ unreachableSince: undefined, error: undefined });
  }

  private update(changes: Partial<RegistrationView>): void {
    this.view = { ...this.view, ...changes };
    if (!this.stopped || changes.state === 'unregistered') this.o.onRegistration({ ...this.view });
  }
}

/** The `peers` of a DISCOVER reply; entries we could not dial are skipped. */
export function readPeers(value: unknown): DiscoveredPeer[] {
  if (!Array.isArray(value)) throw new RendezvousError('bad_reply', 'DISCOVER reply without a peer list');
  const peers: DiscoveredPeer[] = [];
  for (const p of value as unknown[]) {
    if (typeof p !== 'object' || p === null) continue;
    const { ip, port, name, namespace, expires_in: expiresIn } = p as Record<string, unknown>;
    if (typeof ip !== 'string' || typeof name !== 'string' || typeof namespace !== 'string') continue;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    peers.push({ peerId: `${name}@${namespace}`, name, namespace, ip, port, expiresIn: typeof expiresIn === 'number' ? expiresIn : 0 });
  }
  return peers;
}
