// A coloured initial for a peer, '#' for a namespace, '*' for broadcast: the same colour for the
// same name everywhere.

import type { ConversationKind } from '../../src-shared/chat-api.ts';

const COLOURS = ['bg-sky-700', 'bg-emerald-600', 'bg-violet-600', 'bg-amber-600', 'bg-rose-600', 'bg-teal-600', 'bg-indigo-600', 'bg-fuchsia-600', 'bg-orange-600'];

function colourOf(text: string): string {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return COLOURS[hash % COLOURS.length]!;
}

export function Avatar({ title, kind, size = 'size-10' }: { title: string; kind: ConversationKind; size?: string }) {
  const glyph = kind === 'broadcast' ? '*' : kind === 'namespace' ? '#' : ([...title][0] ?? '?').toUpperCase();
  const colour = kind === 'broadcast' ? 'bg-zinc-500' : colourOf(title);
  return (
    <span aria-hidden="true" className={`${size} ${colour} grid shrink-0 place-items-center rounded-full text-base font-semibold text-white select-none`}>
      {glyph}
    </span>
  );
}
