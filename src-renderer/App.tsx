// The whole UI: the first-run form until a profile exists, then the messenger. Theme and
// language follow the saved settings, or the system's when they say 'system'.

import { useEffect } from 'react';
import { LocaleContext, resolveLocale, strings } from './i18n.ts';
import type { HostConnection } from './runtime/web-chat.ts';
import { useChat } from './state/chat-context.ts';
import { useConnectionState, useHostEpoch, useSnapshot } from './state/use-host.ts';
import { useSystemLanguage, useTheme } from './state/use-environment.ts';
import { DisconnectedBanner } from './components/DisconnectedBanner.tsx';
import { ErrorText } from './components/ErrorText.tsx';
import { Messenger } from './components/Messenger.tsx';
import { WelcomeScreen } from './components/WelcomeScreen.tsx';

export function App({ connection }: { connection: HostConnection | undefined }) {
  const chat = useChat();
  const connectionState = useConnectionState(connection);
  const epoch = useHostEpoch(connection);
  const { snapshot, error, setSnapshot } = useSnapshot(chat, epoch);
  const locale = resolveLocale(snapshot?.settings.language, useSystemLanguage());
  const t = strings(locale);
  useTheme(snapshot?.settings.theme);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  return (
    <LocaleContext.Provider value={locale}>
      <div className="flex h-full flex-col">
        {connectionState === 'disconnected' && <DisconnectedBanner />}
        <div className="min-h-0 flex-1">
          {snapshot === undefined ? (
            <div role={error ? 'alert' : 'status'} className="grid h-full place-items-center text-sm text-zinc-600 dark:text-zinc-400">
              {error ? (
                <div className="max-w-md text-center">
                  <p>{t.loadFailed}</p>
                  <ErrorText error={error} />
                </div>
              ) : (
                t.loading
              )}
            </div>
          ) : snapshot.settings.profile === undefined ? (
            <WelcomeScreen onStarted={setSnapshot} />
          ) : (
            <Messenger snapshot={snapshot} epoch={epoch} onSnapshot={setSnapshot} />
          )}
        </div>
      </div>
    </LocaleContext.Provider>
  );
}
