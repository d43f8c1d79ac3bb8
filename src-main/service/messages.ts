// Stored and live engine messages as the ChatApi shows them, and a conversation written out for
// export.

import { conversationKind, conversationPeer, type ChatMessage, type ConversationId, type ExportFormat, type ExportedConversation } from '../../src-shared/chat-api.ts';
import type { IncomingMessage, OutgoingMessage } from '../engine/api.ts';
import { conversationOf, type StoredMessage } from '../engine/store/store.ts';

export function fromIncoming(m: IncomingMessage): ChatMessage {
  return chatMessage({ direction: 'in', ...m });
}

export function fromOutgoing(m: OutgoingMessage, localPeerId: string): ChatMessage {
  return chatMessage({ direction: 'out', from: localPeerId, ...m });
}

export function chatMessage(m: StoredMessage): ChatMessage {
  const base = {
    conversationId: conversationOf(m),
    seq: m.seq,
    msgId: m.msgId,
    direction: m.direction,
    kind: m.kind,
    from: m.from,
    to: m.to,
    text: m.text,
    ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
  };
  if (m.direction === 'in') {
    const message: ChatMessage = { ...base, at: m.receivedAt };
    if (m.sentAt !== undefined) message.sentAt = m.sentAt;
    if (m.claimedSrc !== undefined) message.claimedSrc = m.claimedSrc;
    if (m.unverified) message.unverified = true;
    return message;
  }
  const message: ChatMessage = { ...base, at: m.createdAt, delivery: m.state };
  if (m.recipients !== undefined) message.recipients = m.recipients;
  if (m.error !== undefined) message.error = m.error;
  return message;
}

/** A conversation as a file: plain text for people (local times), or JSON with every field. */
export function exportConversation(
  id: ConversationId,
  format: ExportFormat,
  messages: ChatMessage[],
  localPeerId: string,
  now: Date,
): ExportedConversation {
  const peerId = conversationPeer(id);
  const unverified = conversationKind(id) === 'unverified';
  const title = peerId === undefined ? id : unverified ? `${peerId}, unverified (not from the pinned key)` : peerId;
  const stem = `chatp2p-${(unverified ? `${peerId}-unverified` : (peerId ?? id)).replace(/[^\p{L}\p{N}@._-]+/gu, '_')}-${localStamp(now).slice(0, 10)}`;
  if (format === 'json') {
    const content = JSON.stringify({ conversationId: id, localPeerId, exportedAt: now.toISOString(), messages }, null, 2);
    return { fileName: `${stem}.json`, mimeType: 'application/json', content };
  }
  const lines = [`ChatP2P: ${title}, seen by ${localPeerId}, exported ${localStamp(now)} (times are UTC${utcOffset(now)})`, ''];
  for (const m of messages) {
    const state = m.delivery === 'queued' || m.delivery === 'sent' ? ' [not delivered yet]' : m.delivery === 'cancelled' ? ' [cancelled]' : m.unverified ? ' [unverified]' : '';
    // Continuation lines are indented, so a line of text can never pass for a new message.
    lines.push(`${localStamp(new Date(m.at))}  ${m.from}${state}: ${m.text.replace(/\r?\n/g, '\n    ')}`);
  }
  return { fileName: `${stem}.txt`, mimeType: 'text/plain', content: lines.join('\n') + '\n' };
}

function localStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function utcOffset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
