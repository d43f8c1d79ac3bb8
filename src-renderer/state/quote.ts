// A reply's quote as plain text before the answer: what every peer shows, legacy ones included
// (a `reply_to` field needs the chatp2p-receipts extension on both sides).

import type { ChatMessage } from '../../src-shared/chat-api.ts';

const MAX_QUOTE_CHARS = 120;

/** `> bob@CIC: the first line…` and a line break. */
export function quoteLine(message: ChatMessage): string {
  const first = message.text.split(/\r?\n/, 1)[0]!.trim();
  const chars = [...first];
  const text = chars.length > MAX_QUOTE_CHARS ? `${chars.slice(0, MAX_QUOTE_CHARS).join('')}…` : first;
  return `> ${message.from}: ${text}\n`;
}
