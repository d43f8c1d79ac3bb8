// Settings: appearance, notifications, network policy and timers, files, profile, shortcuts. Every
// change goes to the host at once (updateSettings); the host's 'settings' event redraws us.

import { useState, type ReactNode } from 'react';
import { asChatError, BROADCAST, type ChatError, type ConversationId, type Settings, type SettingsPatch, type Snapshot, type Timers } from '../../src-shared/chat-api.ts';
import { useStrings } from '../i18n.ts';
import { BrowserNotifications } from './BrowserNotifications.tsx';
import { ErrorText } from './ErrorText.tsx';
import { useChat } from '../state/chat-context.ts';
import { Field } from './Field.tsx';
import { Icon } from './Icons.tsx';
import { ProfileForm } from './ProfileForm.tsx';
import { ShortcutList } from './ShortcutsSheet.tsx';

interface SettingsViewProps {
  snapshot: Snapshot;
  /** `#namespace` channels and `*`, for the per-channel notification toggles. */
  channels: ConversationId[];
  onSnapshot: (snapshot: Snapshot) => void;
  onClose: () => void;
  /** Open at the profile form ("Change server" after a failed registration). */
  editProfile?: boolean;
}

export function SettingsView({ snapshot, channels, onSnapshot, onClose, editProfile = false }: SettingsViewProps) {
  const t = useStrings();
  const chat = useChat();
  const settings = snapshot.settings;
  const [editingProfile, setEditingProfile] = useState(editProfile);
  const [error, setError] = useState<ChatError>();
  const update = (patch: SettingsPatch) => {
    setError(undefined);
    chat.updateSettings(patch).catch((e: unknown) => setError(asChatError(e)));
  };

  return (
    <main aria-label={t.settings} className="flex min-w-0 flex-1 flex-col bg-white dark:bg-zinc-950">
      <header className="flex items-center gap-2 border-b border-zinc-200 px-5 py-3 dark:border-zinc-800">
        <button type="button" onClick={onClose} aria-label={t.back} title={t.back} className="rounded-lg p-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800">
          <Icon name="back" />
        </button>
        <h1 className="text-base font-semibold">{t.settings}</h1>
      </header>
      <div className="flex-1 overflow-y-auto">
        <div className="mx-auto max-w-2xl space-y-8 px-6 py-6">
          {error && (
            <div role="alert" className="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950/50 dark:text-red-300">
              <ErrorText error={error} />
            </div>
          )}
          <Group title={t.profile}>
            {editingProfile ? (
              <>
                <p className="text-sm text-zinc-600 dark:text-zinc-400">{t.changeProfileIntro}</p>
                <ProfileForm
                  profile={settings.profile}
                  onCancel={() => setEditingProfile(false)}
                  onStarted={(s) => {
                    onSnapshot(s);
                    setEditingProfile(false);
                  }}
                />
              </>
            ) : (
              <div className="flex items-center justify-between gap-4">
                <p className="text-sm" data-testid="profile-summary">
                  {settings.profile && t.profileSummary(`${settings.profile.name}@${settings.profile.namespace}`, `${settings.profile.rendezvous.host}:${settings.profile.rendezvous.port}`)}
                </p>
                <button type="button" onClick={() => setEditingProfile(true)} className={`shrink-0 ${secondaryButton}`}>
                  {t.changeProfile}
                </button>
              </div>
            )}
            {snapshot.status.identity?.protectedAtRest === false && (
              <p data-testid="key-not-protected" className="mt-2 text-xs text-amber-700 dark:text-amber-400">
                {t.secure.keyNotProtected}
              </p>
            )}
          </Group>

          <Group title={t.appearance}>
            <Choice
              label={t.theme}
              value={settings.theme}
              options={[
                ['system', t.themeSystem],
                ['light', t.themeLight],
                ['dark', t.themeDark],
              ]}
              onChange={(theme) => update({ theme })}
            />
            <Choice
              label={t.language}
              value={settings.language}
              options={[
                ['system', t.languageSystem],
                ['en', 'English'],
                ['pt-BR', 'Português (Brasil)'],
              ]}
              onChange={(language) => update({ language })}
            />
          </Group>

          <Group title={t.notifications}>
            <Toggle label={t.notifyDms} checked={settings.notifications} onChange={(notifications) => update({ notifications })} />
            <fieldset disabled={!settings.notifications} className="space-y-2 disabled:opacity-50">
              <legend className="mb-2 text-sm text-zinc-600 dark:text-zinc-400">{t.notifyChannels}</legend>
              <div className="flex flex-wrap gap-x-5 gap-y-2 pl-1">
                {channels.map((id) => (
                  <Toggle
                    key={id}
                    label={id === BROADCAST ? `${t.broadcastTitle} (*)` : id}
                    checked={settings.notifyChannels.includes(id)}
                    onChange={(on) => update({ notifyChannels: on ? [...settings.notifyChannels, id] : settings.notifyChannels.filter((c) => c !== id) })}
                  />
                ))}
              </div>
            </fieldset>
            <Toggle label={t.doNotDisturb} checked={settings.doNotDisturb} onChange={(doNotDisturb) => update({ doNotDisturb })} />
            <Toggle label={t.notificationSound} checked={settings.sound} onChange={(sound) => update({ sound })} />
            {snapshot.host === 'web' && <BrowserNotifications />}
            {snapshot.host === 'electron' && (
              <>
                <Toggle label={t.tray} checked={settings.minimizeToTray} onChange={(minimizeToTray) => update({ minimizeToTray })} />
                {/* A window hidden where no tray icon shows would be a trap: say how to get it back. */}
                <p className="-mt-1 pl-11.5 text-xs text-zinc-600 dark:text-zinc-400">{t.trayHint}</p>
              </>
            )}
          </Group>

          <Group title={t.privacy}>
            <Toggle label={t.readReceipts} checked={settings.readReceipts} onChange={(readReceipts) => update({ readReceipts })} />
            <p className="-mt-1 pl-11.5 text-xs text-zinc-600 dark:text-zinc-400">{t.readReceiptsHint}</p>
          </Group>

          <Group title={t.network}>
            <Choice
              label={t.connectionPolicy}
              value={settings.connectionPolicy}
              options={[
                ['all', t.policyAll],
                ['namespace', t.policyNamespace],
              ]}
              onChange={(connectionPolicy) => update({ connectionPolicy })}
            />
            <TimersForm timers={settings.timers} onSave={(timers) => chat.updateSettings({ timers })} />
          </Group>

          <Group title={t.filesGroup}>
            <FileSettingsGroup settings={settings} host={snapshot.host} onError={setError} />
          </Group>

          <Group title={t.shortcuts}>
            <ShortcutList />
          </Group>
        </div>
      </div>
    </main>
  );
}

function Group({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="space-y-4">
      <h2 className="border-b border-zinc-200 pb-1.5 text-xs font-semibold tracking-wide text-zinc-600 uppercase dark:border-zinc-800 dark:text-zinc-400">{title}</h2>
      {children}
    </section>
  );
}

/** A segmented control: one radio button per option. */
function Choice<V extends string>({ label, value, options, onChange }: { label: string; value: V; options: [V, string][]; onChange: (value: V) => void }) {
  return (
    <fieldset>
      <legend className="mb-1.5 text-sm font-medium">{label}</legend>
      <div className="inline-flex flex-wrap gap-1 rounded-xl bg-zinc-100 p-1 dark:bg-zinc-900">
        {options.map(([v, text]) => (
          <label
            key={v}
            className="relative cursor-pointer rounded-lg px-3 py-1.5 text-sm text-zinc-600 transition has-checked:bg-white has-checked:font-medium has-checked:text-zinc-900 has-checked:shadow-sm has-focus-visible:ring-2 has-focus-visible:ring-sky-500 dark:text-zinc-400 dark:has-checked:bg-zinc-700 dark:has-checked:text-white"
          >
            <input type="radio" name={label} value={v} checked={value === v} onChange={() => onChange(v)} className="absolute inset-0 cursor-pointer appearance-none rounded-lg" />
            {text}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function Toggle({ label, checked, onChange }: { label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label className="relative flex cursor-pointer items-center gap-2.5 text-sm">
      <input type="checkbox" role="switch" checked={checked} onChange={(e) => onChange(e.target.checked)} className="peer absolute inset-0 cursor-pointer appearance-none" />
      <span
        aria-hidden="true"
        className="relative h-5 w-9 shrink-0 rounded-full bg-zinc-300 transition peer-checked:bg-sky-600 peer-focus-visible:ring-2 peer-focus-visible:ring-sky-500 after:absolute after:top-0.5 after:left-0.5 after:size-4 after:rounded-full after:bg-white after:shadow after:transition peer-checked:after:translate-x-4 dark:bg-zinc-700"
      />
      {label}
    </label>
  );
}

const TIMER_FIELDS = ['ackTimeoutS', 'pingIntervalS', 'discoverIntervalS', 'maxReconnectAttempts'] as const satisfies readonly (keyof Timers)[];

function TimersForm({ timers, onSave }: { timers: Timers; onSave: (timers: Timers) => Promise<Settings> }) {
  const t = useStrings();
  const labels: Record<keyof Timers, string> = { ackTimeoutS: t.ackTimeout, pingIntervalS: t.pingInterval, discoverIntervalS: t.discoverInterval, maxReconnectAttempts: t.maxReconnects };
  return (
    <NumbersForm
      title={t.timers}
      submit={t.saveTimers}
      fields={TIMER_FIELDS.map((key) => ({ key, label: labels[key], min: key === 'maxReconnectAttempts' ? 0 : 1, error: key === 'maxReconnectAttempts' ? t.errWholeNumber : t.errSeconds }))}
      values={timers}
      onSave={onSave}
    />
  );
}

/** Files: the download folder (picked only through the host's own dialog) and the size limits. */
function FileSettingsGroup({ settings, host, onError }: { settings: Settings; host: Snapshot['host']; onError: (error: ChatError | undefined) => void }) {
  const t = useStrings();
  const chat = useChat();
  const run = (command: Promise<unknown>) => {
    onError(undefined);
    command.catch((e: unknown) => onError(asChatError(e)));
  };
  const folder = settings.files.downloadDir;
  return (
    <>
      <div className="space-y-1.5">
        <h3 className="text-sm font-medium">{t.downloadFolder}</h3>
        <p data-testid="download-folder" className="text-sm break-all text-zinc-700 dark:text-zinc-300">
          {folder ?? t.systemDownloads}
        </p>
        <div className="flex flex-wrap gap-2">
          {host === 'electron' && (
            <button type="button" onClick={() => run(chat.chooseDownloadFolder())} className={secondaryButton}>
              {t.chooseFolder}
            </button>
          )}
          {folder !== undefined && (
            <button type="button" onClick={() => run(chat.updateSettings({ files: { downloadDir: null } }))} className={secondaryButton}>
              {t.useSystemDownloads}
            </button>
          )}
        </div>
        {host === 'web' && <p className="text-xs text-zinc-600 dark:text-zinc-400">{t.downloadFolderWeb}</p>}
      </div>
      <NumbersForm
        title={t.fileLimits}
        submit={t.saveFileLimits}
        fields={[
          { key: 'maxMB', label: t.maxFileMB, min: 1, error: t.errMegabytes },
          { key: 'autoAcceptMB', label: t.autoAcceptMB, min: 0, error: t.errWholeNumber, hint: t.autoAcceptHint },
        ]}
        values={settings.files}
        onSave={(files) => chat.updateSettings({ files })}
      />
    </>
  );
}

const secondaryButton = 'rounded-lg border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800';

interface NumberField<K extends string> {
  key: K;
  label: string;
  min: number;
  /** Said under the field while it does not hold a whole number of at least `min`. */
  error: string;
  hint?: string;
}

/** Whole numbers edited together and saved with one button; the host answers for the upper bounds. */
function NumbersForm<K extends string>({
  title,
  submit,
  fields,
  values,
  onSave,
}: {
  title: string;
  submit: string;
  fields: NumberField<K>[];
  values: Record<K, number>;
  onSave: (values: Record<K, number>) => Promise<Settings>;
}) {
  const t = useStrings();
  const [draft, setDraft] = useState(() => Object.fromEntries(fields.map((f) => [f.key, String(values[f.key])])) as Record<K, string>);
  const [result, setResult] = useState<{ ok: true } | { ok: false; error: ChatError }>();
  const errorOf = (f: NumberField<K>) => (/^\s*\d+\s*$/.test(draft[f.key]) && Number(draft[f.key]) >= f.min ? undefined : f.error);
  const valid = fields.every((f) => !errorOf(f));
  const save = () => {
    setResult(undefined);
    onSave(Object.fromEntries(fields.map((f) => [f.key, Number(draft[f.key])])) as Record<K, number>).then(
      () => setResult({ ok: true }),
      (e: unknown) => setResult({ ok: false, error: asChatError(e) }),
    );
  };
  return (
    <form
      aria-label={title}
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) save();
      }}
      className="space-y-3"
    >
      <h3 className="text-sm font-medium">{title}</h3>
      <div className="grid gap-3 sm:grid-cols-2">
        {fields.map((f) => (
          <Field
            key={f.key}
            label={f.label}
            value={draft[f.key]}
            error={errorOf(f)}
            hint={f.hint}
            inputMode="numeric"
            onValue={(value) => {
              setResult(undefined);
              setDraft((d) => ({ ...d, [f.key]: value }));
            }}
          />
        ))}
      </div>
      <div className="flex items-center gap-3">
        <button type="submit" disabled={!valid} className="rounded-lg bg-sky-700 px-3 py-1.5 text-sm font-semibold text-white hover:bg-sky-800 disabled:opacity-50">
          {submit}
        </button>
        {result && (
          <div role="status" className={`text-sm ${result.ok ? 'text-emerald-700 dark:text-emerald-400' : 'text-red-700 dark:text-red-400'}`}>
            {result.ok ? t.saved : <ErrorText error={result.error} />}
          </div>
        )}
      </div>
    </form>
  );
}
