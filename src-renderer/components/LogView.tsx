// The engine's log, newest at the bottom, with the level switch.

import { useLayoutEffect, useRef } from 'react';
import { LOG_LEVELS, type LogEvent, type LogLevel } from '../../src-shared/chat-api.ts';
import { useLocale, useStrings, type Locale } from '../i18n.ts';
import { useChat } from '../state/chat-context.ts';
import { Icon } from './Icons.tsx';

const LEVEL_COLOUR: Record<LogLevel, string> = {
  DEBUG: 'text-zinc-600 dark:text-zinc-400',
  INFO: 'text-sky-700 dark:text-sky-400',
  WARN: 'text-amber-700 dark:text-amber-400',
  ERROR: 'text-red-700 dark:text-red-400',
};

interface LogViewProps {
  logs: LogEvent[];
  level: LogLevel;
  onClose: () => void;
}

function logTime(locale: Locale, time: string): string {
  const at = new Date(time);
  return Number.isNaN(at.getTime()) ? time : at.toLocaleTimeString(locale, { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 });
}

export function LogView({ logs, level, onClose }: LogViewProps) {
  const t = useStrings();
  const locale = useLocale();
  const chat = useChat();
  const scroller = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const box = scroller.current;
    if (box) box.scrollTop = box.scrollHeight;
  }, [logs]);
  return (
    <section aria-label={t.logTitle} className="flex h-64 shrink-0 flex-col border-t border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-950">
      <div className="flex items-center gap-3 border-b border-zinc-200 px-3 py-1.5 dark:border-zinc-800">
        <h2 className="text-xs font-semibold">{t.logTitle}</h2>
        <label className="flex items-center gap-1.5 text-xs text-zinc-600 dark:text-zinc-400">
          {t.logLevel}
          <select
            value={level}
            onChange={(e) => void chat.setLogLevel(e.target.value as LogLevel)}
            className="rounded border border-zinc-300 bg-white px-1 py-0.5 text-xs dark:border-zinc-700 dark:bg-zinc-900"
          >
            {LOG_LEVELS.map((l) => (
              <option key={l} value={l}>
                {t.logLevels[l]}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={onClose} aria-label={t.close} className="ml-auto rounded p-1 hover:bg-zinc-100 dark:hover:bg-zinc-800">
          <Icon name="close" className="size-4" />
        </button>
      </div>
      {/* Focusable, so that the keyboard can scroll it once the lines overflow (axe: scrollable-region-focusable). */}
      <div
        ref={scroller}
        role="log"
        tabIndex={0}
        aria-label={t.logTitle}
        className="flex-1 overflow-y-auto px-3 py-1 font-mono text-[11px] leading-5 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-600"
      >
        {logs.length === 0 ? (
          <p className="text-zinc-600 dark:text-zinc-400">{t.noLogs}</p>
        ) : (
          // The engine logs in English, whatever the UI's language: screen readers read it as such.
          <ol role="list" aria-label={t.logTitle} lang="en">
            {logs.map((line, i) => (
              <li key={i} className="break-all whitespace-pre-wrap">
                <span className="text-zinc-600 dark:text-zinc-400">{logTime(locale, line.time)}</span> <span className={LEVEL_COLOUR[line.level]}>{line.level.padEnd(5)}</span>{' '}
                <span className="text-zinc-600 dark:text-zinc-400">[{line.module}]</span> {line.message}
              </li>
            ))}
          </ol>
        )}
      </div>
    </section>
  );
}
