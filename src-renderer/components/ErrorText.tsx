// An error as the user reads it: one sentence in their language, and the raw reason (errno, the
// server's words) folded under "Details" for whoever needs it.

import type { ChatError } from '../../src-shared/chat-api.ts';
import { errorSentence, useStrings } from '../i18n.ts';

export function ErrorText({ error }: { error: ChatError }) {
  const t = useStrings();
  return (
    <>
      <span data-error-code={error.code}>{errorSentence(t, error)}</span>
      {error.detail && <Details text={error.detail} />}
    </>
  );
}

/** Raw text (an errno, the server's reply) folded away under "Details". */
export function Details({ text }: { text: string }) {
  const t = useStrings();
  return (
    <details className="mt-1 text-xs">
      <summary className="cursor-pointer select-none">{t.details}</summary>
      {/* The engine's and the server's own words are English. */}
      <code lang="en" className="mt-1 block font-mono break-words whitespace-pre-wrap">
        {text}
      </code>
    </details>
  );
}
