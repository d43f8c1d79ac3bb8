// Abuse protection of the reference server: at most `maxConnections` per IP in a sliding window;
// the next one is dropped and the IP blocked for `blockMs`, after which its count starts afresh.

export type Admission =
  | { kind: 'admit' }
  /** The connection that crossed the limit: close it without a reply. */
  | { kind: 'drop' }
  | { kind: 'blocked'; secondsLeft: number };

interface IpWindow {
  /** Connection times; entries before `head` have left the window. */
  times: number[];
  head: number;
  blockedUntil: number;
}

export class RateLimiter {
  private readonly ips = new Map<string, IpWindow>();
  readonly maxConnections: number;
  private readonly windowMs: number;
  private readonly blockMs: number;

  constructor(maxConnections: number, windowMs: number, blockMs: number) {
    this.maxConnections = maxConnections;
    this.windowMs = windowMs;
    this.blockMs = blockMs;
  }

  admit(ip: string, now: number): Admission {
    let w = this.ips.get(ip);
    if (!w) this.ips.set(ip, (w = { times: [], head: 0, blockedUntil: 0 }));
    if (w.blockedUntil > now) return { kind: 'blocked', secondsLeft: Math.ceil((w.blockedUntil - now) / 1000) };
    this.slide(w, now);
    if (w.times.length - w.head >= this.maxConnections) {
      w.blockedUntil = now + this.blockMs;
      w.times = [];
      w.head = 0;
      return { kind: 'drop' };
    }
    w.times.push(now);
    return { kind: 'admit' };
  }

  /** Forgets IPs that are neither blocked nor seen within the window, so the map stays small. */
  sweep(now: number): void {
    for (const [ip, w] of this.ips) {
      this.slide(w, now);
      if (w.blockedUntil <= now && w.head === w.times.length) this.ips.delete(ip);
    }
  }

  private slide(w: IpWindow, now: number): void {
    while (w.head < w.times.length && w.times[w.head]! <= now - this.windowMs) w.head++;
    // Compact now and then, so a large limit costs memory in proportion to live entries only.
    if (w.head > 1024 && w.head * 2 > w.times.length) {
      w.times = w.times.slice(w.head);
      w.head = 0;
    }
  }
}

export const blockedMessage = (ip: string, port: number, limit: number, secondsLeft: number): string =>
  `Connection from ${ip}:${port} has been blocked due to excessive login attempts (limit: ${limit}). ` +
  `The block will be lifted in ${secondsLeft} seconds.`;
