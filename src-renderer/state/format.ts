// Times and durations as the user reads them, in the UI's language.

import type { Locale } from '../i18n.ts';

export const clockTime = (locale: Locale, at: number) => new Date(at).toLocaleTimeString(locale, { hour: 'numeric', minute: '2-digit' });

/** Today: the time; earlier: the date. For sidebar previews. */
export function shortWhen(locale: Locale, at: number, now: number): string {
  const day = (t: number) => new Date(t).toDateString();
  return day(at) === day(now) ? clockTime(locale, at) : new Date(at).toLocaleDateString(locale, { day: '2-digit', month: '2-digit' });
}

/** Long timestamp for a bubble's tooltip. */
export const fullTime = (locale: Locale, at: number) => new Date(at).toLocaleString(locale);

/** `1:59:58`, `4:05`, `0:09`: time left on a countdown. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}
