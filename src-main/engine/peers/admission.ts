// Which inbound connections we hold before HELLO, and which dials we have in flight. Pending
// handshakes are what a flood of silent connections holds; so that a flood from many addresses
// cannot lock everyone else out, a newcomer over the global cap takes the place of a pending one
// rather than being refused. Connections past HELLO are not here, so they are never evicted.

/** The bounds this module keeps (EngineConfig.network). */
export interface AdmissionLimits {
  maxPendingHandshakes: number;
  maxPendingPerIp: number;
  maxConnectionsPerIp: number;
}

export type Admission<C> = { kind: 'admit'; evict: C | undefined } | { kind: 'refuse'; reason: string };

/**
 * Connections grouped by the IP they came from, in arrival order: the one to let go when room is
 * needed is the oldest of the IP holding the most (between equals, the oldest of all). Shared with
 * the rendezvous server's admission.
 */
export class ByAddress<C> {
  /** Per IP, oldest first (a Set keeps insertion order). */
  private readonly byIp = new Map<string, Set<C>>();
  private readonly entries = new Map<C, { ip: string; seq: number }>();
  private seq = 0;

  get size(): number {
    return this.entries.size;
  }

  countOf(ip: string): number {
    return this.byIp.get(ip)?.size ?? 0;
  }

  values(): C[] {
    return [...this.entries.keys()];
  }

  add(conn: C, ip: string): void {
    let set = this.byIp.get(ip);
    if (!set) this.byIp.set(ip, (set = new Set()));
    set.add(conn);
    this.entries.set(conn, { ip, seq: this.seq++ });
  }

  /** Whether it was held. */
  delete(conn: C): boolean {
    const entry = this.entries.get(conn);
    if (!entry) return false;
    this.entries.delete(conn);
    const set = this.byIp.get(entry.ip)!;
    set.delete(conn);
    if (set.size === 0) this.byIp.delete(entry.ip);
    return true;
  }

  /** The oldest connection of the IP holding the most; between equals, the oldest of all. */
  victim(): C | undefined {
    let victim: { conn: C; size: number; seq: number } | undefined;
    for (const set of this.byIp.values()) {
      const conn = set.values().next().value as C;
      const seq = this.entries.get(conn)!.seq;
      if (!victim || set.size > victim.size || (set.size === victim.size && seq < victim.seq)) victim = { conn, size: set.size, seq };
    }
    return victim?.conn;
  }
}

export class HandshakeAdmission<C> {
  private readonly limits: AdmissionLimits;
  private readonly pendingConns = new ByAddress<C>();
  private readonly inboundByIp = new Map<string, number>();
  private inbound = 0;
  private peak = 0;

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
  }

  get pending(): number {
    return this.pendingConns.size;
  }

  get peakPending(): number {
    return this.peak;
  }

  get inboundCount(): number {
    return this.inbound;
  }

  pendingConnections(): C[] {
    return this.pendingConns.values();
  }

  /**
   * Decides for a new socket from `ip`. The per-IP caps refuse: one host cannot take more. The
   * global cap evicts the oldest pending connection of the IP holding the most, so that whoever
   * says HELLO promptly gets in however many addresses a flood comes from.
   */
  decide(ip: string): Admission<C> {
    const l = this.limits;
    if ((this.inboundByIp.get(ip) ?? 0) >= l.maxConnectionsPerIp) return { kind: 'refuse', reason: `${l.maxConnectionsPerIp} connections from ${ip} already (max_connections_per_ip)` };
    if (this.pendingConns.countOf(ip) >= l.maxPendingPerIp) return { kind: 'refuse', reason: `${l.maxPendingPerIp} handshakes from ${ip} already pending (max_pending_per_ip)` };
    return { kind: 'admit', evict: this.pending >= l.maxPendingHandshakes ? this.pendingConns.victim() : undefined };
  }

  /** A socket admitted from `ip`: pending until `settle`, inbound until `release`. */
  add(conn: C, ip: string): void {
    this.inbound += 1;
    this.inboundByIp.set(ip, (this.inboundByIp.get(ip) ?? 0) + 1);
    this.pendingConns.add(conn, ip);
    this.peak = Math.max(this.peak, this.pending);
  }

  /** Past HELLO (or gone): no longer holds a handshake slot. */
  settle(conn: C): void {
    this.pendingConns.delete(conn);
  }

  /** An admitted socket closed. */
  release(ip: string): void {
    this.inbound -= 1;
    const n = (this.inboundByIp.get(ip) ?? 0) - 1;
    if (n > 0) this.inboundByIp.set(ip, n);
    else this.inboundByIp.delete(ip);
  }
}

/**
 * Outbound dials in flight at once, and the ones waiting their turn: a DISCOVER that lists
 * thousands of peers must not make us open thousands of sockets at once.
 */
export class DialQueue<K> {
  private readonly max: number;
  private readonly inFlight = new Set<K>();
  private readonly waiting = new Map<K, () => boolean>();
  private peak = 0;

  constructor(max: number) {
    this.max = max;
  }

  get dialing(): number {
    return this.inFlight.size;
  }

  get queued(): number {
    return this.waiting.size;
  }

  /** The most dials ever in flight at once. */
  get peakDialing(): number {
    return this.peak;
  }

  /**
   * Runs `start` now if there is room, else once there is, in the order asked (asking again keeps
   * the place); `start` says whether it dialed after all.
   */
  request(key: K, start: () => boolean): void {
    if (this.inFlight.has(key) || this.waiting.has(key)) return;
    this.waiting.set(key, start);
    this.pump();
  }

  /** The dial of `key` ended (open, failed or cancelled), or it no longer waits. */
  done(key: K): void {
    this.waiting.delete(key);
    if (this.inFlight.delete(key)) this.pump();
  }

  clear(): void {
    this.waiting.clear();
    this.inFlight.clear();
  }

  private pump(): void {
    for (const [key, start] of this.waiting) {
      if (this.inFlight.size >= this.max) return;
      this.waiting.delete(key);
      this.inFlight.add(key);
      if (start()) this.peak = Math.max(this.peak, this.inFlight.size);
      else this.inFlight.delete(key);
    }
  }
}
