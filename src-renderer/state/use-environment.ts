// What the renderer follows from its surroundings: the system's colour scheme and language, and
// whether the page is on screen at all.

import { useEffect, useSyncExternalStore } from 'react';
import type { Theme } from '../../src-shared/chat-api.ts';

/** Whether a media query matches, followed as it changes (the window resized, the theme switched). */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const media = window.matchMedia(query);
      media.addEventListener('change', onChange);
      return () => media.removeEventListener('change', onChange);
    },
    () => window.matchMedia(query).matches,
  );
}

/**
 * Dark or light: the setting, or the system's preference when the setting is 'system'. Tailwind's
 * dark variant keys on the `dark` class of <html> (styles.css).
 */
export function useTheme(theme: Theme | undefined): void {
  const systemDark = useMediaQuery('(prefers-color-scheme: dark)');
  const dark = theme === 'dark' || (theme !== 'light' && systemDark);
  useEffect(() => {
    document.documentElement.classList.toggle('dark', dark);
  }, [dark]);
}

/** The system's language, followed while the setting says 'system'. */
function subscribeLanguage(onChange: () => void) {
  window.addEventListener('languagechange', onChange);
  return () => window.removeEventListener('languagechange', onChange);
}

export function useSystemLanguage(): string {
  return useSyncExternalStore(subscribeLanguage, () => navigator.language);
}

/** Whether the page is on screen: a hidden or minimized window reads nothing. */
function subscribeVisibility(onChange: () => void) {
  document.addEventListener('visibilitychange', onChange);
  return () => document.removeEventListener('visibilitychange', onChange);
}

export function usePageVisible(): boolean {
  return useSyncExternalStore(subscribeVisibility, () => document.visibilityState === 'visible');
}
