// Where a message is written. Enter sends, Shift+Enter starts a new line. Text over the wire
// limit and empty text are refused here, with the reason next to the box.

import { Suspense, lazy, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { asChatError, LIMITS, wireTextBytes, type ChatError } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { ErrorText } from './ErrorText.tsx';
import { emojiForShortcode } from '../state/emoji-data.ts';
import { Icon } from './Icons.tsx';

const EmojiPicker = lazy(() => import('./EmojiPicker.tsx'));

/** `:name:` just typed before the caret: a shortcode to turn into its emoji. */
const SHORTCODE = /:([a-z0-9_+-]{2,40}):$/i;

interface ComposerProps {
  placeholder: string;
  /** The text in the box (the conversation's draft), owned by the caller so it outlives the box. */
  text: string;
  onText: (text: string) => void;
  /** Sent before the text (a reply's quoted line): it counts toward the limit too. */
  prefix?: string;
  onSend: (text: string) => Promise<void>;
  composerRef: RefObject<HTMLTextAreaElement | null>;
}

const MAX_HEIGHT_PX = 200;

/** Under the box: a hint, our own check's words, or the host's refusal. */
type Notice = { kind: 'hint' | 'error'; text: string } | { kind: 'error'; error: ChatError };

export function Composer({ placeholder, text, onText: setText, prefix = '', onSend, composerRef }: ComposerProps) {
  const t = useStrings();
  const noteId = useId();
  const [notice, setNotice] = useState<Notice>();
  const [busy, setBusy] = useState(false);
  const [picking, setPicking] = useState(false);
  const pickerBox = useRef<HTMLDivElement>(null);
  const bytes = wireTextBytes(prefix + text);
  const tooLong = bytes > LIMITS.maxTextBytes;

  // Grow with the text up to a limit, then scroll.
  useLayoutEffect(() => {
    const box = composerRef.current;
    if (!box) return;
    box.style.height = 'auto';
    box.style.height = `${Math.min(box.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [text, composerRef]);

  const send = async () => {
    if (busy) return;
    if (text.trim() === '') return setNotice({ kind: 'hint', text: t.emptyHint });
    if (tooLong) return;
    setBusy(true);
    try {
      await onSend(prefix + text);
      setText('');
      setNotice(undefined);
    } catch (error) {
      setNotice({ kind: 'error', error: asChatError(error) });
    } finally {
      setBusy(false);
      composerRef.current?.focus();
    }
  };

  // Text goes in at the caret, which stays after it.
  const insert = (emoji: string, from: number, to: number, current: string) => {
    setText(current.slice(0, from) + emoji + current.slice(to));
    requestAnimationFrame(() => {
      const box = composerRef.current;
      if (!box) return;
      box.focus();
      box.setSelectionRange(from + emoji.length, from + emoji.length);
    });
  };

  const onChange = (next: string, caret: number) => {
    setText(next);
    if (notice) setNotice(undefined);
    const code = SHORTCODE.exec(next.slice(0, caret));
    if (!code) return;
    void emojiForShortcode(code[1]!).then((emoji) => {
      // Only if the text is still what it was when the shortcode was typed.
      if (emoji && composerRef.current?.value === next) insert(emoji, caret - code[0].length, caret, next);
    });
  };

  const pick = (emoji: string) => {
    const box = composerRef.current;
    setPicking(false);
    insert(emoji, box?.selectionStart ?? text.length, box?.selectionEnd ?? text.length, text);
  };

  // Escape or a click outside closes the picker.
  useEffect(() => {
    if (!picking) return;
    const onPointerDown = (e: PointerEvent) => {
      if (!pickerBox.current?.contains(e.target as Node)) setPicking(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [picking]);

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  const message: Notice | undefined = tooLong ? { kind: 'error', text: t.tooLong(bytes, LIMITS.maxTextBytes) } : notice;
  return (
    <div className="border-t border-zinc-200 bg-white px-4 pt-3 pb-2 dark:border-zinc-800 dark:bg-zinc-950">
      <div className="flex items-end gap-2">
        <textarea
          ref={composerRef}
          value={text}
          onChange={(e) => onChange(e.target.value, e.target.selectionStart)}
          onKeyDown={onKeyDown}
          rows={1}
          placeholder={placeholder}
          aria-label={t.composerLabel}
          aria-invalid={tooLong || undefined}
          aria-describedby={noteId}
          className="max-h-[200px] min-h-10 flex-1 resize-none rounded-2xl border border-zinc-300 bg-zinc-50 px-4 py-2 text-[15px] leading-6 outline-none focus:border-sky-500 focus:bg-white focus:ring-2 focus:ring-sky-500/25 aria-invalid:border-red-500 dark:border-zinc-700 dark:bg-zinc-900 dark:focus:bg-zinc-900"
        />
        <div ref={pickerBox} className="relative">
          <button
            type="button"
            onClick={() => setPicking((p) => !p)}
            aria-label={t.emoji}
            title={t.emoji}
            aria-expanded={picking}
            className="grid size-10 place-items-center rounded-full text-xl text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            <span aria-hidden="true" className="font-emoji">
              🙂
            </span>
          </button>
          {picking && (
            <div
              className="absolute right-0 bottom-full z-30 mb-2"
              onKeyDown={(e) => {
                if (e.key !== 'Escape') return;
                e.stopPropagation();
                setPicking(false);
                composerRef.current?.focus();
              }}
            >
              <Suspense fallback={<p className="rounded-xl bg-white p-4 text-sm text-zinc-500 shadow-lg dark:bg-zinc-900">{t.emojiLoading}</p>}>
                <EmojiPicker onPick={pick} />
              </Suspense>
            </div>
          )}
        </div>
        <button
          type="button"
          onClick={() => void send()}
          disabled={busy || tooLong}
          aria-label={t.send}
          title={t.send}
          className="grid size-10 shrink-0 place-items-center rounded-full bg-sky-700 text-white shadow-sm hover:bg-sky-800 disabled:cursor-not-allowed disabled:opacity-50"
        >
          <Icon name="send" />
        </button>
      </div>
      <div id={noteId} className="mt-1 flex flex-wrap items-start justify-between gap-x-3 px-2 text-xs">
        {message ? (
          <div role="alert" data-testid={`composer-${message.kind}`} className={message.kind === 'error' ? 'text-red-700 dark:text-red-400' : 'text-amber-800 dark:text-amber-400'}>
            {'error' in message ? <ErrorText error={message.error} /> : message.text}
          </div>
        ) : (
          <p className="text-zinc-600 dark:text-zinc-400">{t.composerHelp}</p>
        )}
        <p data-testid="byte-counter" className={`shrink-0 tabular-nums ${tooLong ? 'font-semibold text-red-700 dark:text-red-400' : 'text-zinc-600 dark:text-zinc-400'}`}>
          {t.bytes(bytes, LIMITS.maxTextBytes)}
        </p>
      </div>
    </div>
  );
}
