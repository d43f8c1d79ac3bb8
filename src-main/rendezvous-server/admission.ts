// How many client connections the server holds at once. The per-IP rate limit stops one host;
// a flood of silent connections from many addresses is stopped here: at the cap, a newcomer takes
// the place of the oldest silent connection of the IP holding the most (then of one lingering
// after its reply), so a client that sends its request at once is always answered.

import type { Socket } from 'node:net';
import type { ModuleLogger } from '../engine/log.ts';
import { ByAddress } from '../engine/peers/admission.ts';

/** One eviction is logged per this period; the rest are counted into the next line. */
const LOG_PERIOD_MS = 1000;

export class ConnectionAdmission {
  private readonly max: number;
  /** Connected, no complete request yet. */
  private readonly silent = new ByAddress<Socket>();
  /** Answered, waiting for the client to read and close. */
  private readonly lingering = new ByAddress<Socket>();
  private readonly ipOf = new Map<Socket, string>();
  private readonly log: ModuleLogger;
  private readonly now: () => number;
  private lastLog = -Infinity;
  private unlogged = 0;
  /** Connections closed to make room since the start. */
  evicted = 0;

  constructor(maxConnections: number, log: ModuleLogger, now: () => number) {
    this.max = maxConnections;
    this.log = log;
    this.now = now;
  }

  /**
   * A new connection from `ip` (`peer` is ip:port, for the log). At the cap, closes one to make
   * room; one whose request is being answered right now is never chosen.
   */
  admit(socket: Socket, ip: string, peer: string): void {
    const victim = this.ipOf.size >= this.max ? (this.silent.victim() ?? this.lingering.victim()) : undefined;
    if (victim) this.evict(victim, peer);
    this.ipOf.set(socket, ip);
    this.silent.add(socket, ip);
    socket.once('close', () => this.closed(socket));
  }

  /** Its request line is complete: it is being answered. */
  answering(socket: Socket): void {
    this.silent.delete(socket);
  }

  /** Its reply is written; it may linger until it closes. */
  answered(socket: Socket): void {
    const ip = this.ipOf.get(socket);
    if (ip === undefined) return;
    this.silent.delete(socket);
    this.lingering.add(socket, ip);
  }

  private evict(victim: Socket, peer: string): void {
    const who = `${this.ipOf.get(victim)}:${victim.remotePort ?? '?'}`;
    const wasSilent = this.silent.delete(victim);
    this.closed(victim);
    victim.destroy();
    this.evicted += 1;
    this.unlogged += 1;
    const t = this.now();
    if (t - this.lastLog < LOG_PERIOD_MS) return;
    this.log.warn(`${this.max} connections open: closed ${wasSilent ? 'silent' : 'lingering'} ${who} to make room for ${peer}` + (this.unlogged > 1 ? ` (${this.unlogged} closed so since the last such line)` : ''));
    this.lastLog = t;
    this.unlogged = 0;
  }

  private closed(socket: Socket): void {
    this.ipOf.delete(socket);
    this.silent.delete(socket);
    this.lingering.delete(socket);
  }
}
