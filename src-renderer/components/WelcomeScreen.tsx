import type { Snapshot } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { ProfileForm } from './ProfileForm.tsx';

/** First run: no profile yet. */
export function WelcomeScreen({ onStarted }: { onStarted: (snapshot: Snapshot) => void }) {
  const t = useStrings();
  return (
    <main className="flex min-h-full items-start justify-center overflow-y-auto bg-zinc-50 px-4 py-12 dark:bg-zinc-950">
      <div className="w-full max-w-xl rounded-2xl border border-zinc-200 bg-white p-8 shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
        <div className="mb-6 flex items-center gap-3">
          <span aria-hidden="true" className="grid size-11 shrink-0 place-items-center rounded-xl bg-sky-700 text-sm font-bold text-white">
            P2P
          </span>
          <div>
            <h1 className="text-xl font-semibold">{t.welcomeTitle}</h1>
            <p className="text-sm text-zinc-600 dark:text-zinc-400">{t.welcomeIntro}</p>
          </div>
        </div>
        <ProfileForm profile={undefined} onStarted={onStarted} />
      </div>
    </main>
  );
}
