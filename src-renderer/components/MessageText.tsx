// Message text as plain text nodes (never HTML), with http(s) and `www.` links made clickable. In
// Electron a link opens through main (chat.openLink), which checks it again against its allow-list;
// in a browser tab it opens in a new tab that cannot reach back to this one (noopener). Never by
// navigating this window.

import { allowedExternalUrl, asChatError, type ChatError } from '../../src-shared/chat-api.ts';
import { useChat } from '../state/chat-context.ts';

const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
// Punctuation that usually ends the sentence around a link rather than the link itself.
const TRAILING = /[.,;:!?)\]}]+$/;

type Part = { text: string; url?: string };

function splitLinks(text: string): Part[] {
  const parts: Part[] = [];
  let from = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(TRAILING, '');
    // `www.example.org` is a web address as people write it: https, as browsers assume today.
    const url = allowedExternalUrl(/^www\./i.test(raw) ? `https://${raw}` : raw);
    if (!url) continue;
    if (match.index > from) parts.push({ text: text.slice(from, match.index) });
    parts.push({ text: raw, url });
    from = match.index + raw.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from) });
  return parts;
}

/** A browser tab has no preload: no `window.chat` before the app builds one over the WebSocket. */
const IN_BROWSER_TAB = typeof window !== 'undefined' && window.chat === undefined;

export function MessageText({ text, onLinkError }: { text: string; onLinkError: (error: ChatError) => void }) {
  const chat = useChat();
  return (
    <>
      {splitLinks(text).map((part, i) =>
        part.url ? (
          <a
            key={i}
            href={part.url}
            target="_blank"
            rel="noreferrer noopener"
            onClick={(e) => {
              if (IN_BROWSER_TAB) return;
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
