// The loaded part of one conversation: a run of consecutive messages (by seq) that pages extend
// at either end. A message from an event joins it only where the run covers it, so the list
// never shows a message next to a gap that was not loaded.

import type { ChatMessage, HistoryPage } from '../../src-shared/chat-api.ts';

export const NOTHING_LOADED: HistoryPage = { messages: [], hasOlder: false, hasNewer: false };

/** Whether `seq` belongs inside the loaded run; past its end only while the run reaches the latest message. */
export function covers(loaded: HistoryPage, seq: number): boolean {
  const first = loaded.messages[0];
  const last = loaded.messages.at(-1);
  if (!first || !last) return !loaded.hasOlder && !loaded.hasNewer;
  return (!loaded.hasOlder || seq >= first.seq) && (!loaded.hasNewer || seq <= last.seq);
}

/** The message in its place by seq, replacing an older copy of itself. */
export function upsert(loaded: HistoryPage, message: ChatMessage): HistoryPage {
  const list = loaded.messages;
  // Arrivals and delivery changes are nearly always among the latest: search from the end.
  let i = list.length - 1;
  while (i >= 0 && list[i]!.seq > message.seq) i--;
  const messages = i >= 0 && list[i]!.seq === message.seq ? list.with(i, message) : list.toSpliced(i + 1, 0, message);
  return { ...loaded, messages };
}

/** Like `upsert`, but a copy already loaded wins: it was read after the event was sent. */
export function insertIfAbsent(loaded: HistoryPage, message: ChatMessage): HistoryPage {
  return loaded.messages.some((m) => m.seq === message.seq) ? loaded : upsert(loaded, message);
}

/** An older page goes before the run. */
export function prependPage(loaded: HistoryPage, page: HistoryPage): HistoryPage {
  const first = loaded.messages[0];
  const older = first ? page.messages.filter((m) => m.seq < first.seq) : page.messages;
  return { messages: [...older, ...loaded.messages], hasOlder: page.hasOlder, hasNewer: loaded.hasNewer };
}

/** A newer page goes after the run. */
export function appendPage(loaded: HistoryPage, page: HistoryPage): HistoryPage {
  const last = loaded.messages.at(-1);
  const newer = last ? page.messages.filter((m) => m.seq > last.seq) : page.messages;
  return { messages: [...loaded.messages, ...newer], hasOlder: loaded.hasOlder, hasNewer: page.hasNewer };
}
