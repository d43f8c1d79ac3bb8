// Messages: SEND with ACK, retries with the same msg_id, delivery states; PUB to `*` and `#ns`;
// incoming SEND/PUB de-duplicated and attributed to the peer the connection's HELLO proved.
// Every message goes through the store: ours before it is written to a socket, theirs before we
// ACK it. A DM waits in the outbox (across restarts too) until it is delivered or cancelled.

import { randomUUID } from 'node:crypto';
import type { EngineCounters, IncomingMessage, OutgoingMessage } from './api.ts';
import { sendWindow } from './extensions/pipeline.ts';
import { mayUse as receiptsOn } from './extensions/receipts.ts';
import type { ModuleLogger } from './log.ts';
import type { PeerConnection } from './peers/connection.ts';
import { isTrusted } from './secure/trust.ts';
import type { MessageStore } from './store/store.ts';
import { encodeFrame } from './wire/framing.ts';
import { namespaceOf, type PeerMessage } from './wire/messages.ts';
import { isoNow, parseTimestamp } from './wire/timestamp.ts';

export interface RouterOptions {
  localPeerId: string;
  ackTimeoutMs: number;
  retryAttempts: number;
  pipelineWindow: number;
  log: ModuleLogger;
  now: () => number;
  counters: EngineCounters;
  store: MessageStore;
  connectionFor(peerId: string): PeerConnection | undefined;
  onDelivery(message: OutgoingMessage): void;
  onMessage(message: IncomingMessage): void;
}

/**
 * A DM and its SEND frame, encoded once: retries resend the same bytes and msg_id. A reply has a
 * second one with `reply_to`, for a connection that negotiated chatp2p-receipts.
 */
interface Pending {
  message: OutgoingMessage;
  frame: Buffer;
  replyFrame?: Buffer;
}

interface Outbox {
  queue: Fifo<Pending>;
  /** DMs that wait for the peer's next connection: it was away, or never ACKed them. */
  parked: Pending[];
  /**
   * SENDs awaiting their ACK, oldest first, each with its deadline (performance.now() ms), which
   * counts from when the SEND left: `written` is false while it still waits in the connection's queue.
   */
  inflight: Map<string, Pending & { deadline: number; written: boolean }>;
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

  /** Takes out the first item that matches. */
  remove(match: (item: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i]!;
      if (!match(item)) continue;
      this.items.splice(i, 1);
      return item;
    }
    return undefined;
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
  private idleWaiters: (() => void)[] = [];

  constructor(options: RouterOptions) {
    this.o = options;
  }

  /** Stores and queues a DM; it goes out when the peer's connection is open and the window allows. */
  sendDirect(peerId: string, text: string, replyTo?: string): OutgoingMessage {
    const draft = { ...this.newMessage('dm', peerId, text), ...(replyTo === undefined ? {} : { replyTo }) };
    // Encoding first refuses what could never be framed, before anything is stored.
    const frames = this.sendFrames(draft);
    const message = this.o.store.addOutgoing(draft, this.o.localPeerId);
    this.outbox(peerId).queue.push({ message, ...frames });
    this.o.onDelivery({ ...message });
    this.pump(peerId);
    return { ...message };
  }

  /** The outbox an earlier run left: each DM waits for its peer's next connection. */
  resume(): string[] {
    const peers = new Set<string>();
    for (const message of this.o.store.pendingOutgoing()) {
      message.state = 'queued';
      this.outbox(message.to).parked.push({ message, ...this.sendFrames(message) });
      peers.add(message.to);
    }
    if (peers.size > 0) this.o.log.info(`Outbox: ${this.parkedCount()} message(s) waiting for ${[...peers].join(', ')}`);
    return [...peers];
  }

  /** A connection with the peer opened: what waited for it goes first, then the queue. */
  onConnectionOpen(peerId: string): void {
    this.unpark(peerId);
    this.pump(peerId);
  }

  /** The user's "try now": a parked DM goes back in line for the current or next connection. */
  unpark(peerId: string): void {
    const box = this.outboxes.get(peerId);
    if (!box || box.parked.length === 0) return;
    const back = box.parked.splice(0);
    box.queue.unshift(...back);
  }

  /** Takes back a DM not yet delivered; undefined when none with that msg_id is waiting. */
  cancel(msgId: string): OutgoingMessage | undefined {
    for (const [peerId, box] of this.outboxes) {
      const inflight = box.inflight.get(msgId);
      const pending = inflight ?? box.parked.find((p) => p.message.msgId === msgId) ?? box.queue.remove((p) => p.message.msgId === msgId);
      if (!pending) continue;
      box.inflight.delete(msgId);
      box.parked = box.parked.filter((p) => p !== pending);
      this.finish(pending.message, 'cancelled', undefined);
      this.o.log.info(`Cancelled ${msgId} to ${peerId}`);
      this.dropIfEmpty(peerId, box);
      this.checkIdle();
      return { ...pending.message };
    }
    return undefined;
  }

  /** Writes a PUB to every open connection in scope: `*` all, `#ns` the peers of namespace ns. */
  publish(dst: string, text: string, connections: PeerConnection[]): OutgoingMessage {
    const draft = this.newMessage('pub', dst, text);
    const frame = encodeFrame({ type: 'PUB', msg_id: draft.msgId, src: this.o.localPeerId, dst, payload: text, require_ack: false, timestamp: isoNow(this.o.now()), ttl: 1 });
    const ns = dst.slice(1);
    const targets = connections.filter((c) => dst === '*' || namespaceOf(c.peerId!) === ns);
    const message = this.o.store.addOutgoing({ ...draft, state: 'sent', attempts: 1, recipients: targets.length }, this.o.localPeerId);
    for (const conn of targets) conn.sendEncoded(frame);
    this.o.log.debug(() => `PUB ${dst} to ${targets.length} peers: ${preview(text)}`);
    this.o.onDelivery({ ...message });
    return { ...message };
  }

  /** Writes queued SENDs while the window allows: 1 unacknowledged toward a legacy peer. */
  pump(peerId: string): void {
    const box = this.outboxes.get(peerId);
    const conn = this.o.connectionFor(peerId);
    if (!box || !conn) return;
    const window = sendWindow(conn.extensions, this.o.pipelineWindow);
    while (box.inflight.size < window && box.queue.length > 0) {
      const pending = box.queue.shift()!;
      const message = pending.message;
      message.state = 'sent';
      message.attempts += 1;
      message.error = undefined;
      const entry = { ...pending, deadline: performance.now() + this.o.ackTimeoutMs, written: false };
      box.inflight.set(message.msgId, entry);
      // The ACK is due ackTimeout after the SEND leaves, however long it waited behind a burst of ours.
      const onWritten = () => {
        entry.written = true;
        entry.deadline = performance.now() + this.o.ackTimeoutMs;
      };
      conn.sendEncoded(pending.replyFrame && receiptsOn(conn.extensions) ? pending.replyFrame : pending.frame, { awaitAck: message.msgId, onWritten });
      this.o.log.debug(() => `SEND ${peerId} (${message.msgId}${message.attempts > 1 ? `, attempt ${message.attempts}` : ''}): ${preview(message.text)}`);
      // Not stored: after a restart an unacknowledged SEND is queued again whatever its row says,
      // and one write fewer per message counts at full speed.
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
    // The ACK promises the message is kept: it waits for the commit that stores it.
    const ack = () => {
      if (frame.type === 'SEND' && frame.requireAck) {
        conn.send({ type: 'ACK', msg_id: frame.msgId, src: this.o.localPeerId, dst: from, timestamp: isoNow(this.o.now()), ttl: 1 }, { urgent: true });
      }
    };
    let claimedSrc: string | undefined;
    if (frame.src !== undefined && frame.src !== from) {
      claimedSrc = frame.src;
      this.o.counters.spoofed += 1;
      this.o.log.warn(`${frame.type} on ${from}'s connection claims src ${JSON.stringify(frame.src)}: shown as from ${from}`);
    }
    const msgId = frame.msgId ?? randomUUID();
    const to = frame.type === 'PUB' ? frame.dst : this.o.localPeerId;
    let message: IncomingMessage | undefined;
    try {
      message = this.o.store.addIncoming({
        msgId,
        kind: frame.type === 'PUB' ? 'pub' : 'dm',
        from,
        to,
        text: frame.payload,
        receivedAt: this.o.now(),
        sentAt: parseTimestamp(frame.timestamp),
        claimedSrc,
        // A connection that could not prove the peer's pinned key: kept, but never as the peer's own word.
        ...(isTrusted(conn.security) ? {} : { unverified: true as const }),
        ...(frame.type === 'SEND' && frame.replyTo !== undefined && receiptsOn(conn.extensions) ? { replyTo: frame.replyTo } : {}),
      });
    } catch (err) {
      // Not stored, so not ACKed: the sender will try again.
      this.o.log.error(`Cannot store ${frame.type} ${msgId} from ${from}: ${(err as Error).message}`);
      return;
    }
    if (message === undefined) {
      this.o.counters.duplicates += 1;
      this.o.log.debug(() => `${frame.type} ${msgId} from ${from} again: ACKed, not shown twice`);
      this.o.store.whenDurable((err) => err || ack());
      return;
    }
    this.o.log.debug(() => (frame.type === 'PUB' ? `PUB ${from} -> ${to}: ${preview(frame.payload)}` : `SEND ${from}: ${preview(frame.payload)}`));
    const stored = message;
    this.o.store.whenDurable((err) => {
      if (err) return this.o.log.error(`Cannot store ${frame.type} ${msgId} from ${from}: ${err.message}`);
      ack();
      this.o.onMessage(stored);
    });
  }

  /**
   * A read receipt (chatp2p-receipts): our DMs to this peer that it names move to `read`. One
   * still awaiting its ACK was received, since it was read: it counts as ACKed first.
   */
  onRead(peerId: string, refs: string[]): void {
    for (const msgId of refs) {
      if (this.outboxes.get(peerId)?.inflight.has(msgId)) this.onAck(peerId, msgId);
      const message = this.o.store.outgoing(msgId);
      if (message?.kind !== 'dm' || message.to !== peerId || message.state !== 'delivered') continue;
      message.state = 'read';
      this.changed(message);
    }
  }

  /** The connection closed: SENDs without their ACK go back to the front of the queue, in order. */
  onConnectionClosed(peerId: string): void {
    const box = this.outboxes.get(peerId);
    if (!box) return;
    const back = [...box.inflight.values()].map(({ message, frame, replyFrame }) => {
      message.state = 'queued';
      this.changed(message);
      return { message, frame, replyFrame };
    });
    box.inflight.clear();
    box.queue.unshift(...back);
  }

  /** No connection with this peer for now: what waits for it is parked until the next one. */
  park(peerId: string, reason: string): void {
    const box = this.outboxes.get(peerId);
    if (!box) return;
    clearTimeout(box.timer);
    box.timer = undefined;
    const waiting = [...box.inflight.values(), ...box.queue.drain()].map(({ message, frame, replyFrame }) => ({ message, frame, replyFrame }));
    box.inflight.clear();
    this.parkAll(box, waiting, reason);
    if (waiting.length > 0) this.o.log.warn(`${waiting.length} message(s) to ${peerId} wait for its next connection: ${reason}`);
    this.checkIdle();
  }

  /** DMs being sent now (queued for an open or opening connection, or awaiting their ACK). */
  get pending(): number {
    let n = 0;
    for (const box of this.outboxes.values()) n += box.queue.length + box.inflight.size;
    return n;
  }

  /** Resolves once no DM is on its way: each is delivered, cancelled or parked for later. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Shutting down: timers stop; the outbox stays in the store for the next start. */
  close(): void {
    for (const box of this.outboxes.values()) clearTimeout(box.timer);
    this.outboxes.clear();
    this.checkIdle();
  }

  private onAck(peerId: string, msgId: string): void {
    const box = this.outboxes.get(peerId);
    const entry = box?.inflight.get(msgId);
    if (!box || !entry) {
      // Cancelled while its SEND was on the way: the peer has it after all.
      const late = this.o.store.outgoing(msgId);
      if (late?.state === 'cancelled' && late.to === peerId) this.finish(late, 'delivered', undefined);
      else this.o.log.debug(`ACK ${msgId} from ${peerId} for nothing in flight`);
      return;
    }
    box.inflight.delete(msgId);
    this.finish(entry.message, 'delivered', undefined);
    if (!this.dropIfEmpty(peerId, box)) this.pump(peerId);
    this.checkIdle();
  }

  /** Forgets a peer's outbox once nothing waits in it; true if it did. */
  private dropIfEmpty(peerId: string, box: Outbox): boolean {
    if (box.queue.length > 0 || box.inflight.size > 0 || box.parked.length > 0) return false;
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
      // Timers run before sockets are read: after a long busy stretch, ACKs that came in time may
      // still wait unread. setImmediate runs after the read, so only late ones count as late.
      setImmediate(() => {
        box.timer = undefined;
        if (this.outboxes.get(peerId) === box) this.expire(peerId, box);
      });
    }, Math.max(0, oldest.deadline - performance.now()));
  }

  /** SENDs past their ACK deadline are retried (same msg_id, ahead of the queue) or parked for the next connection. */
  private expire(peerId: string, box: Outbox): void {
    const now = performance.now();
    const retries: Pending[] = [];
    for (const [msgId, entry] of box.inflight) {
      if (entry.deadline > now) break;
      // Still behind other frames toward a slow reader: its time has not started.
      if (!entry.written) {
        entry.deadline = now + this.o.ackTimeoutMs;
        break;
      }
      box.inflight.delete(msgId);
      const message = entry.message;
      if (message.attempts > this.o.retryAttempts) {
        const reason = `no ACK after ${message.attempts} attempts`;
        this.parkAll(box, [{ message, frame: entry.frame, replyFrame: entry.replyFrame }], reason);
        this.o.log.warn(`SEND ${message.msgId} to ${peerId}: ${reason}; it waits for the next connection`);
      } else {
        this.o.log.warn(`No ACK from ${peerId} for ${message.msgId} within ${this.o.ackTimeoutMs} ms: retrying (${message.attempts} of ${this.o.retryAttempts + 1})`);
        retries.push({ message, frame: entry.frame, replyFrame: entry.replyFrame });
      }
    }
    if (retries.length > 0) box.queue.unshift(...retries);
    if (!this.dropIfEmpty(peerId, box)) {
      this.pump(peerId);
      this.armTimer(peerId, box);
    }
    this.checkIdle();
  }

  private finish(message: OutgoingMessage, state: 'delivered' | 'cancelled', error: string | undefined): void {
    message.state = state;
    message.error = error;
    this.changed(message);
  }

  private parkAll(box: Outbox, waiting: Pending[], reason: string): void {
    for (const pending of waiting) {
      pending.message.state = 'queued';
      pending.message.error = reason;
      box.parked.push(pending);
      this.changed(pending.message);
    }
  }

  /** A delivery change: kept in the store (next commit) and told to the hosts. */
  private changed(message: OutgoingMessage): void {
    this.o.store.updateOutgoing(message);
    this.o.onDelivery({ ...message });
  }

  private parkedCount(): number {
    let n = 0;
    for (const box of this.outboxes.values()) n += box.parked.length;
    return n;
  }

  private checkIdle(): void {
    if (this.pending > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private outbox(peerId: string): Outbox {
    let box = this.outboxes.get(peerId);
    if (!box) this.outboxes.set(peerId, (box = { queue: new Fifo(), parked: [], inflight: new Map(), timer: undefined }));
    return box;
  }

  private newMessage(kind: 'dm' | 'pub', to: string, text: string): OutgoingMessage {
    return { seq: 0, msgId: randomUUID(), kind, to, text, state: 'queued', attempts: 0, createdAt: this.o.now(), error: undefined, recipients: undefined };
  }

  private sendFrames(message: OutgoingMessage): Pick<Pending, 'frame' | 'replyFrame'> {
    const send = { type: 'SEND', msg_id: message.msgId, src: this.o.localPeerId, dst: message.to, payload: message.text, require_ack: true, timestamp: isoNow(this.o.now()), ttl: 1 };
    const frame = encodeFrame(send);
    return message.replyTo === undefined ? { frame } : { frame, replyFrame: encodeFrame({ ...send, reply_to: message.replyTo }) };
  }
}

/** A payload as a log line shows it: one line, bounded, control characters escaped. */
export function preview(text: string, max = 80): string {
  const oneLine = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return oneLine.slice(1, -1);
}
