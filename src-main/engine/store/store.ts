// Message history behind a small interface: what the router journals (every message, the durable
// outbox, de-duplication) and what hosts read (pages, search, unread counts). The engine never
// sees SQLite; `sqlite-store.ts` is the one implementation.

import { dmConversation, unverifiedConversation, type ConversationId } from '../../../src-shared/chat-api.ts';
import type { FileTransfer, IncomingMessage, OutgoingMessage } from '../api.ts';

/** The contract's conversation ids: `dm:<peer_id>`, `dm-unverified:<peer_id>`, `#<namespace>`, `*`. */
export type ConversationKey = ConversationId;

export const dmKey = dmConversation;

/**
 * The conversation a message belongs to: the other peer for a DM, the scope for a PUB. A DM from a
 * connection that could not prove the pinned key goes apart from that peer's chat.
 */
export function conversationOf(message: { kind: 'dm' | 'pub'; direction: 'in' | 'out'; from: string; to: string; unverified?: true }): ConversationKey {
  if (message.kind === 'pub') return message.to;
  if (message.direction === 'out') return dmKey(message.to);
  return message.unverified ? unverifiedConversation(message.from) : dmKey(message.from);
}

export type StoredMessage = ({ direction: 'out'; from: string } & OutgoingMessage) | ({ direction: 'in' } & IncomingMessage);

export interface HistoryQuery {
  /** Messages strictly older than this seq (scrolling up). */
  before?: number;
  /** Messages strictly newer than this seq (scrolling down after a jump). */
  after?: number;
  /** Messages on both sides of this seq, itself included (opening a search hit). */
  around?: number;
  limit: number;
}

export interface HistoryPage {
  /** Oldest first. */
  messages: StoredMessage[];
  hasOlder: boolean;
  hasNewer: boolean;
}

export interface SearchHit {
  conversation: ConversationKey;
  seq: number;
  message: StoredMessage;
  /** The text around the match, split so the matching words can be marked without HTML. */
  parts: { text: string; match: boolean }[];
}

export interface ConversationRow {
  key: ConversationKey;
  /** Incoming messages after the last one read. */
  unread: number;
  /** Our DMs still waiting for their ACK (queued or sent). */
  queued: number;
  /** The oldest incoming message after the last one read. */
  firstUnread: number | undefined;
  last: StoredMessage | undefined;
}

/** A peer's identity key as chatp2p-secure pinned it (keys are hex X25519 public keys). */
export interface PinnedKey {
  peerId: string;
  key: string;
  pinnedAt: number;
  /** The user compared safety numbers with the peer and marked them verified. */
  verified: boolean;
  /** A different key a later secure session showed: our DMs wait until the user accepts it. */
  offeredKey: string | undefined;
}

/** The database cannot be used as it is (foreign, corrupt, newer, in use); the message says why. */
export class StoreError extends Error {}

export interface MessageStore {
  /** Binds the history to this peer_id on first use; refuses (StoreError) one that belongs to another. */
  claim(peerId: string): void;
  /** Our message, durable before this returns: a crash afterwards does not lose it. */
  addOutgoing(message: OutgoingMessage, from: string): OutgoingMessage;
  /** A delivery change; written with the next commit. */
  updateOutgoing(message: OutgoingMessage): void;
  /**
   * A received message, committed with the next batch: ACK it only after `whenDurable`. Undefined
   * when this peer's msg_id is already stored (a retry, maybe from before a restart).
   */
  addIncoming(message: Omit<IncomingMessage, 'seq'>): IncomingMessage | undefined;
  /** Runs `callback` once everything written so far is committed, with the error if that failed. */
  whenDurable(callback: (err?: Error) => void): void;
  /** Whether this peer's msg_id was already received, in this run or an earlier one. */
  hasIncoming(from: string, msgId: string): boolean;
  /** Our DMs not yet delivered nor cancelled, oldest first: the outbox to resume on start. */
  pendingOutgoing(): OutgoingMessage[];
  outgoing(msgId: string): OutgoingMessage | undefined;

  /** A file transfer's offer and progress (inserted or replaced); written with the next commit. */
  saveTransfer(transfer: FileTransfer): void;
  /** Every file transfer kept, oldest first: what an earlier run left is resumed from these. */
  transfers(): FileTransfer[];

  page(conversation: ConversationKey, query: HistoryQuery): HistoryPage;
  search(text: string, limit: number): SearchHit[];
  conversations(): ConversationRow[];
  /** Marks incoming messages read up to `upTo` (a seq), or every one so far; false when nothing changed. */
  markRead(conversation: ConversationKey, upTo?: number): boolean;
  /** Removes one message (and its search entry); false when there is no such message there. */
  deleteMessage(conversation: ConversationKey, seq: number): boolean;
  /** Removes the conversation and its messages (and their search entries). */
  deleteConversation(conversation: ConversationKey): void;
  peerKey(peerId: string): PinnedKey | undefined;
  peerKeys(): PinnedKey[];
  /** Durable before it returns. */
  savePeerKey(pin: PinnedKey): void;
  /** Commits what is pending and closes the file. */
  close(): void;
}
