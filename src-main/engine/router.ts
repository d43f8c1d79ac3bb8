// Messages: SEND with ACK, retries with the same msg_id, delivery states; PUB to `*` and `#ns`;
// incoming SEND/PUB de-duplicated and attributed to the peer the connection's HELLO proved.

import { randomUUID } from 'node:crypto';
import type { EngineCounters, IncomingMessage, OutgoingMessage } from './api.ts';
import type { ModuleLogger } from './log.ts';
import type { PeerConnection } from './peers/connection.ts';
import { encodeFrame } from './wire/framing.ts';
import { namespaceOf, type PeerMessage } from './wire/messages.ts';
import { isoNow, parseTimestamp } from './wire/timestamp.ts';

/** msg_ids remembered for de-duplication; older ones are forgotten first. */
const SEEN_CAPACITY = 50_000;

export interface RouterOptions {
  localPeerId: string;
  ackTimeoutMs: number;
  retryAttempts: number;
  pipelineWindow: number;
  log: ModuleLogger;
  now: () => number;
  counters: EngineCounters;
  connectionFor(peerId: string): PeerConnection | undefined;
  onDelivery(message: OutgoingMessage): void;
  onMessage(message: IncomingMessage): void;
}

/** A DM and its SEND frame, encoded once: retries resend the same bytes and msg_id. */
interface Pending {
  message: OutgoingMessage;
  frame: Buffer;
}

interface Outbox {
  queue: Fifo<Pending>;
  /** SENDs awaiting their ACK, oldest first, each with its deadline (performance.now() ms). */
  inflight: Map<string, Pending & { deadline: number }>;
  /** One timer per peer, for the oldest deadline: no timer per message. */
  timer: NodeJS.Timeout | undefined;
}

/** A queue whose shift does not move the rest: a backlog of many thousands stays cheap. */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Puts items back at the front, in their order. */
  unshift(...items: T[]): void {
    this.items = [...items, ...this.items.slice(this.head)];
    this.head = 0;
  }

  drain(): T[] {
    const items = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return items;
  }
}

export class Router {
  private readonly o: RouterOptions;
  private readonly outboxes = new Map<string, Outbox>();
  private readonly seen = new Map<string, true>();
  private idleWaiters: (() => void)[] = [];

  constructor(options: RouterOptions) {
    this.o = options;
  }

  /** Queues a DM; it goes out when the peer's connection is open and the window allows. */
  sendDirect(peerId: string, text: string): OutgoingMessage {
    const message = this.newMessage('dm', peerId, text);
    // Encoding now also refuses what could never be framed, rather than failing it later.
    this.outbox(peerId).queue.push({ message, frame: encodeFrame(this.sendFrame(message)) });
    this.o.onDelivery({ ...message });
    this.pump(peerId);
    return { ...message };
  }

  /** Writes a PUB to every open connection in scope: `*` all, `#ns` the peers of namespace ns. */
  publish(dst: string, text: string, connections: PeerConnection[]): OutgoingMessage {
    const message = this.newMessage('pub', dst, text);
    const frame = encodeFrame({ type: 'PUB', msg_id: message.msgId, src: this.o.localPeerId, dst, payload: text, require_ack: false, timestamp: isoNow(this.o.now()), ttl: 1 });
    const ns = dst.slice(1);
    const targets = connections.filter((c) => dst === '*' || namespaceOf(c.peerId!) === ns);
    for (const conn of targets) conn.sendEncoded(frame);
    message.state = 'sent';
    message.attempts = 1;
    message.recipients = targets.length;
    this.o.log.debug(() => `PUB ${dst} to ${targets.length} peers: ${preview(text)}`);
    this.o.onDelivery({ ...message });
    return { ...message };
  }

  /** Writes queued SENDs while the window allows: 1 unacknowledged toward a legacy peer. */
  pump(peerId: string): void {
    const box = this.outboxes.get(peerId);
    const conn = this.o.connectionFor(peerId);
    if (!box || !conn) return;
    const window = conn.isPipelined ? this.o.pipelineWindow : 1;
    while (box.inflight.size < window && box.queue.length > 0) {
      const pending = box.queue.shift()!;
      const message = pending.message;
      message.state = 'sent';
      message.attempts += 1;
      conn.sendEncoded(pending.frame, { awaitAck: message.msgId });
      box.inflight.set(message.msgId, { ...pending, deadline: performance.now() + this.o.ackTimeoutMs });
      this.o.log.debug(() => `SEND ${peerId} (${message.msgId}${message.attempts > 1 ? `, attempt ${message.attempts}` : ''}): ${preview(message.text)}`);
      this.o.onDelivery({ ...message });
    }
    this.armTimer(peerId, box);
  }

  /** SEND, ACK and PUB from an open connection. */
  onFrame(conn: PeerConnection, frame: PeerMessage): void {
    const from = conn.peerId!;
    if (frame.type === 'ACK') {
      this.onAck(from, frame.msgId);
      return;
    }
    if (frame.type !== 'SEND' && frame.type !== 'PUB') return;
    if (frame.type === 'SEND' && frame.requireAck) {
      conn.send({ type: 'ACK', msg_id: frame.msgId, src: this.o.localPeerId, dst: from, timestamp: isoNow(this.o.now()), ttl: 1 }, { urgent: true });
    }
    let claimedSrc: string | undefined;
    if (frame.src !== undefined && frame.src !== from) {
      claimedSrc = frame.src;
      this.o.counters.spoofed += 1;
      this.o.log.warn(`${frame.type} on ${from}'s connection claims src ${JSON.stringify(frame.src)}: shown as from ${from}`);
    }
    const msgId = frame.msgId ?? randomUUID();
    const key = `${from}\n${msgId}`;
    if (this.seen.has(key)) {
      this.o.counters.duplicates += 1;
      this.o.log.debug(() => `${frame.type} ${msgId} from ${from} again: ACKed, not shown twice`);
      return;
    }
    this.seen.set(key, true);
    if (this.seen.size > SEEN_CAPACITY) this.seen.delete(this.seen.keys().next().value!);
    const to = frame.type === 'PUB' ? frame.dst : this.o.localPeerId;
    this.o.log.debug(() => (frame.type === 'PUB' ? `PUB ${from} -> ${to}: ${preview(frame.payload)}` : `SEND ${from}: ${preview(frame.payload)}`));
    this.o.onMessage({
      msgId,
      kind: frame.type === 'PUB' ? 'pub' : 'dm',
      from,
      to,
      text: frame.payload,
      receivedAt: this.o.now(),
      sentAt: parseTimestamp(frame.timestamp),
      claimedSrc,
    });
  }

  /** The connection closed: SENDs without their ACK go back to the front of the queue, in order. */
  onConnectionClosed(peerId: string): void {
    const box = this.outboxes.get(peerId);
    if (!box) return;
    const back = [...box.inflight.values()].map(({ message, frame }) => {
      message.state = 'queued';
      this.o.onDelivery({ ...message });
      return { message, frame };
    });
    box.inflight.clear();
    box.queue.unshift(...back);
  }

  /** No connection with this peer is coming: everything still waiting for it fails. */
  failPeer(peerId: string, reason: string): void {
    const box = this.outboxes.get(peerId);
    if (!box) return;
    clearTimeout(box.timer);
    const waiting = [...box.inflight.values(), ...box.queue.drain()].map((p) => p.message);
    this.outboxes.delete(peerId);
    for (const message of waiting) this.finish(message, 'failed', reason);
    if (waiting.length > 0) this.o.log.warn(`${waiting.length} message(s) to ${peerId} failed: ${reason}`);
    this.checkIdle();
  }

  /** Messages not yet delivered or failed. */
  get pending(): number {
    let n = 0;
    for (const box of this.outboxes.values()) n += box.queue.length + box.inflight.size;
    return n;
  }

  /** Resolves once every DM has been delivered or has failed. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Shutting down: whatever is still pending fails, and its timers stop. */
  close(reason: string): void {
    for (const peerId of [...this.outboxes.keys()]) this.failPeer(peerId, reason);
  }

  private onAck(peerId: string, msgId: string): void {
    const box = this.outboxes.get(peerId);
    const entry = box?.inflight.get(msgId);
    if (!box || !entry) {
      this.o.log.debug(`ACK ${msgId} from ${peerId} for nothing in flight`);
      return;
    }
    box.inflight.delete(msgId);
    this.finish(entry.message, 'delivered', undefined);
    if (!this.dropIfEmpty(peerId, box)) this.pump(peerId);
    this.checkIdle();
  }

  /** Forgets a peer's outbox once nothing waits in it; true if it did. */
  private dropIfEmpty(peerId: string, box: Outbox): boolean {
    if (box.queue.length > 0 || box.inflight.size > 0) return false;
    clearTimeout(box.timer);
    this.outboxes.delete(peerId);
    return true;
  }

  /** Arms the peer's timer for its oldest unacknowledged SEND. */
  private armTimer(peerId: string, box: Outbox): void {
    if (box.timer !== undefined) return;
    const oldest = box.inflight.values().next().value;
    if (oldest === undefined) return;
    box.timer = setTimeout(() => {
      box.timer = undefined;
      if (this.outboxes.get(peerId) === box) this.expire(peerId, box);
    }, Math.max(0, oldest.deadline - performance.now()));
  }

  /** SENDs past their ACK deadline are retried (same msg_id, ahead of the queue) or failed. */
  private expire(peerId: string, box: Outbox): void {
    const now = performance.now();
    const retries: Pending[] = [];
    for (const [msgId, entry] of box.inflight) {
      if (entry.deadline > now) break;
      box.inflight.delete(msgId);
      const message = entry.message;
      if (message.attempts > this.o.retryAttempts) {
        this.finish(message, 'failed', `no ACK after ${message.attempts} attempts`);
        this.o.log.warn(`SEND ${message.msgId} to ${peerId} failed: no ACK after ${message.attempts} attempts`);
      } else {
        this.o.log.warn(`No ACK from ${peerId} for ${message.msgId} within ${this.o.ackTimeoutMs} ms: retrying (${message.attempts} of ${this.o.retryAttempts + 1})`);
        retries.push({ message, frame: entry.frame });
      }
    }
    if (retries.length > 0) box.queue.unshift(...retries);
    if (!this.dropIfEmpty(peerId, box)) {
      this.pump(peerId);
      this.armTimer(peerId, box);
    }
    this.checkIdle();
  }

  private finish(message: OutgoingMessage, state: 'delivered' | 'failed', error: string | undefined): void {
    message.state = state;
    message.error = error;
    this.o.onDelivery({ ...message });
  }

  private checkIdle(): void {
    if (this.pending > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private outbox(peerId: string): Outbox {
    let box = this.outboxes.get(peerId);
    if (!box) this.outboxes.set(peerId, (box = { queue: new Fifo(), inflight: new Map(), timer: undefined }));
    return box;
  }

  private newMessage(kind: 'dm' | 'pub', to: string, text: string): OutgoingMessage {
    return { msgId: randomUUID(), kind, to, text, state: 'queued', attempts: 0, createdAt: this.o.now(), error: undefined, recipients: undefined };
  }

  private sendFrame(message: OutgoingMessage): Record<string, unknown> {
    return { type: 'SEND', msg_id: message.msgId, src: this.o.localPeerId, dst: message.to, payload: message.text, require_ack: true, timestamp: isoNow(this.o.now()), ttl: 1 };
  }
}

/** A payload as a log line shows it: one line, bounded, control characters escaped. */
export function preview(text: string, max = 80): string {
  const oneLine = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return oneLine.slice(1, -1);
}
