// Message text as plain text nodes (never HTML), with http(s) links made clickable. A link opens
// through the host (chat.openLink), which checks it again, never by navigating this window.

import { allowedExternalUrl, asChatError, type ChatError } from '../../src-shared/chat-api.ts';
import { useChat } from '../state/chat-context.ts';

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
// Punctuation that usually ends the sentence around a link rather than the link itself.
const TRAILING = /[.,;:!?)\]}]+$/;

type Part = { text: string; url?: string };

function splitLinks(text: string): Part[] {
  const parts: Part[] = [];
  let from = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(TRAILING, '');
    const url = allowedExternalUrl(raw);
    if (!url) continue;
    if (match.index > from) parts.push({ text: text.slice(from, match.index) });
    parts.push({ text: raw, url });
    from = match.index + raw.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from) });
  return parts;
}

export function MessageText({ text, onLinkError }: { text: string; onLinkError: (error: ChatError) => void }) {
  const chat = useChat();
  return (
    <>
      {splitLinks(text).map((part, i) =>
        part.url ? (
          <a
            key={i}
            href={part.url}
            rel="noreferrer noopener"
            onClick={(e) => {
              e.preventDefault();
              chat.openLink(part.url!).catch((error: unknown) => onLinkError(asChatError(error)));
            }}
            className="underline decoration-1 underline-offset-2 hover:decoration-2"
          >
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </>
  );
}
