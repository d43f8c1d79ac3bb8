// Conversations as the UI shows them: messages per chat, unread counts, last-message previews.
// Kept in memory for this run, the last MAX_PER_CONVERSATION per chat; durable history is the
// store's job (issue 5), behind the same methods.

import {
  BROADCAST,
  conversationKind,
  dmConversation,
  type ChatMessage,
  type ConversationId,
  type ConversationSummary,
} from '../../src-shared/chat-api.ts';
import type { IncomingMessage, OutgoingMessage } from '../engine/api.ts';

const MAX_PER_CONVERSATION = 1000;

interface Conversation {
  messages: ChatMessage[];
  unread: number;
}

export function fromIncoming(m: IncomingMessage): ChatMessage {
  const message: ChatMessage = {
    conversationId: m.kind === 'dm' ? dmConversation(m.from) : m.to,
    msgId: m.msgId,
    direction: 'in',
    kind: m.kind,
    from: m.from,
    to: m.to,
    text: m.text,
    at: m.receivedAt,
  };
  if (m.sentAt !== undefined) message.sentAt = m.sentAt;
  if (m.claimedSrc !== undefined) message.claimedSrc = m.claimedSrc;
  return message;
}

export function fromOutgoing(m: OutgoingMessage, localPeerId: string): ChatMessage {
  const message: ChatMessage = {
    conversationId: m.kind === 'dm' ? dmConversation(m.to) : m.to,
    msgId: m.msgId,
    direction: 'out',
    kind: m.kind,
    from: localPeerId,
    to: m.to,
    text: m.text,
    at: m.createdAt,
    delivery: m.state,
  };
  if (m.recipients !== undefined) message.recipients = m.recipients;
  if (m.error !== undefined) message.error = m.error;
  return message;
}

export class Conversations {
  private readonly byId = new Map<ConversationId, Conversation>();
  /** Our own messages by msg_id, for delivery updates and retries. */
  private readonly outgoing = new Map<string, ChatMessage>();

  /** Adds a message; `read` is false for an incoming one nobody is looking at. */
  add(message: ChatMessage, read: boolean): void {
    const conversation = this.open(message.conversationId);
    conversation.messages.push(message);
    if (message.direction === 'out') this.outgoing.set(message.msgId, message);
    if (!read) conversation.unread += 1;
    if (conversation.messages.length > MAX_PER_CONVERSATION) {
      const dropped = conversation.messages.shift()!;
      this.outgoing.delete(dropped.msgId);
    }
  }

  /** Applies a delivery update to our message; undefined when we no longer hold it. */
  updateDelivery(update: ChatMessage): ChatMessage | undefined {
    const message = this.outgoing.get(update.msgId);
    if (!message) return undefined;
    message.delivery = update.delivery;
    message.error = update.error;
    if (update.recipients !== undefined) message.recipients = update.recipients;
    return message;
  }

  outgoingMessage(msgId: string): ChatMessage | undefined {
    return this.outgoing.get(msgId);
  }

  remove(msgId: string): void {
    const message = this.outgoing.get(msgId);
    if (!message) return;
    this.outgoing.delete(msgId);
    const conversation = this.byId.get(message.conversationId);
    if (conversation) conversation.messages = conversation.messages.filter((m) => m !== message);
  }

  history(id: ConversationId): ChatMessage[] {
    return (this.byId.get(id)?.messages ?? []).map((m) => ({ ...m }));
  }

  /** Returns whether anything changed. */
  markRead(id: ConversationId): boolean {
    const conversation = this.byId.get(id);
    if (!conversation || conversation.unread === 0) return false;
    conversation.unread = 0;
    return true;
  }

  totalUnread(): number {
    let total = 0;
    for (const c of this.byId.values()) total += c.unread;
    return total;
  }

  /** Broadcast and our namespace always, then every conversation with messages, latest first. */
  summaries(ownNamespace: string | undefined, notifies: (id: ConversationId) => boolean): ConversationSummary[] {
    if (ownNamespace !== undefined) this.open(`#${ownNamespace}`);
    this.open(BROADCAST);
    const list = [...this.byId].map(([id, c]): ConversationSummary => {
      const last = c.messages.at(-1);
      return {
        id,
        kind: conversationKind(id),
        title: id.startsWith('dm:') ? id.slice(3) : id,
        unread: c.unread,
        last: last && { from: last.from, text: last.text.slice(0, 200), at: last.at },
        notify: notifies(id),
      };
    });
    return list.sort((a, b) => (b.last?.at ?? 0) - (a.last?.at ?? 0));
  }

  private open(id: ConversationId): Conversation {
    let conversation = this.byId.get(id);
    if (!conversation) {
      conversation = { messages: [], unread: 0 };
      this.byId.set(id, conversation);
    }
    return conversation;
  }
}
