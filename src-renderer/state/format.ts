// Times and durations as the user reads them, in the UI's language.

import type { Locale } from '../i18n.ts';

export const clockTime = (locale: Locale, at: number) => new Date(at).toLocaleTimeString(locale, { hour: 'numeric', minute: '2-digit' });

/** Today: the time; earlier: the date. For sidebar previews. */
export function shortWhen(locale: Locale, at: number, now: number): string {
  const day = (t: number) => new Date(t).toDateString();
  return day(at) === day(now) ? clockTime(locale, at) : new Date(at).toLocaleDateString(locale, { day: '2-digit', month: '2-digit' });
}

/** Long timestamp for a bubble's tooltip: weekday, date and time to the second. */
export const fullTime = (locale: Locale, at: number) => new Date(at).toLocaleString(locale, { dateStyle: 'full', timeStyle: 'medium' });

const startOfDay = (at: number) => new Date(at).setHours(0, 0, 0, 0);

/** Local calendar days from `at` to `now` (0: today), whatever the daylight-saving change between. */
export function daysAgo(at: number, now: number): number {
  return Math.round((startOfDay(now) - startOfDay(at)) / 86_400_000);
}

export const sameDay = (a: number, b: number) => startOfDay(a) === startOfDay(b);

/** A day separator's words: Today, Yesterday, a weekday within the week, then the full date. */
export function dayLabel(locale: Locale, at: number, now: number, words: { today: string; yesterday: string }): string {
  const days = daysAgo(at, now);
  if (days === 0) return words.today;
  if (days === 1) return words.yesterday;
  const text = new Date(at).toLocaleDateString(locale, days > 1 && days < 7 ? { weekday: 'long' } : { dateStyle: 'full' });
  // Portuguese writes weekdays in lower case; as a heading the first letter is a capital.
  return text.charAt(0).toLocaleUpperCase(locale) + text.slice(1);
}

/** `1:59:58`, `4:05`, `0:09`: time left on a countdown. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}
