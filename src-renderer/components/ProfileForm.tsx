// The profile: who we are on the network and which rendezvous server we use. The first-run
// screen, and "Change profile" in Settings (prefilled, with Cancel).

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { RENDEZVOUS_PRESETS, asChatError, type ChatError, type Profile, type ProfileCheck, type RendezvousPreset, type Snapshot } from '../../src-shared/chat-api.ts';
import { errorSentence, useStrings } from '../i18n.ts';
import { Details, ErrorText } from './ErrorText.tsx';
import { useChat } from '../state/chat-context.ts';
import { draftErrors, draftOf, profileOf, type DraftField, type ProfileDraft } from '../state/profile-form.ts';
import { Field } from './Field.tsx';

interface ProfileFormProps {
  profile: Profile | undefined;
  onStarted: (snapshot: Snapshot) => void;
  onCancel?: () => void;
}

export function ProfileForm({ profile, onStarted, onCancel }: ProfileFormProps) {
  const t = useStrings();
  const chat = useChat();
  const [draft, setDraft] = useState<ProfileDraft>(() => draftOf(profile));
  // Errors show for fields the user has touched, and for all of them after a submit.
  const [touched, setTouched] = useState<Set<DraftField> | 'all'>(() => new Set());
  const [serverError, setServerError] = useState<ChatError>();
  // What the host found when it tried the port and the server; cleared when the field changes.
  const [check, setCheck] = useState<ProfileCheck>({ port: undefined, rendezvous: undefined });
  const [busy, setBusy] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const form = useRef<HTMLFormElement>(null);
  const errors = draftErrors(draft, t);
  const shown = (field: DraftField) => (touched === 'all' || touched.has(field) ? errors[field] : undefined);
  const serverField: DraftField | undefined = draft.preset === 'custom' ? 'custom' : draft.preset === 'local' ? 'localPort' : undefined;
  const checked = (field: DraftField) => (field === 'port' ? check.port : field === serverField ? check.rendezvous : undefined);
  const fieldError = (field: DraftField) => shown(field) ?? textOf(checked(field));
  const textOf = (error: ChatError | undefined) => error && errorSentence(t, error);

  // After each submit that found a problem, the first field with one takes the focus (or the
  // form's own error, when no field is at fault).
  useEffect(() => {
    if (attempt > 0) form.current?.querySelector<HTMLElement>('[aria-invalid="true"], [data-form-error]')?.focus();
  }, [attempt]);

  const set = (field: DraftField) => (value: string) => {
    setDraft((d) => ({ ...d, [field]: value }));
    setTouched((s) => (s === 'all' ? s : new Set(s).add(field)));
    if (field === 'port') setCheck((c) => ({ ...c, port: undefined }));
    if (field === serverField) setCheck((c) => ({ ...c, rendezvous: undefined }));
  };
  const setPreset = (preset: RendezvousPreset) => {
    setDraft((d) => ({ ...d, preset }));
    setCheck((c) => ({ ...c, rendezvous: undefined }));
  };

  /** Checks the port and the server first, unless the user chose to go on with a silent server. */
  const join = async (checkFirst: boolean) => {
    setTouched('all');
    setServerError(undefined);
    if (Object.keys(errors).length > 0) return setAttempt((n) => n + 1);
    const profile = profileOf(draft);
    setBusy(true);
    try {
      if (checkFirst) {
        const found = await chat.checkProfile(profile);
        setCheck(found);
        if (found.port || found.rendezvous) return setAttempt((n) => n + 1);
      }
      onStarted(await chat.startProfile(profile));
    } catch (error) {
      const refusal = asChatError(error);
      if (refusal.code === 'port-in-use' || refusal.code === 'port-unavailable') setCheck((c) => ({ ...c, port: refusal }));
      else setServerError(refusal);
      setAttempt((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void join(true);
  };
  // A server that does not answer may come up later, one that blocks us lets us in later: the
  // messenger then says so, and offers Retry.
  const laterServer = (check.rendezvous?.code === 'rendezvous-unreachable' || check.rendezvous?.code === 'rendezvous-blocked') && !check.port;

  const presets: { value: RendezvousPreset; label: string; detail: string }[] = [
    { value: 'local', label: t.presetLocal, detail: t.presetLocalHint },
    { value: 'unb', label: t.presetUnb, detail: `${RENDEZVOUS_PRESETS.unb.host}:${RENDEZVOUS_PRESETS.unb.port}` },
    { value: 'custom', label: t.presetCustom, detail: t.presetCustomHint },
  ];

  return (
    <form ref={form} onSubmit={submit} noValidate aria-label={profile ? t.changeProfileTitle : t.welcomeTitle} aria-busy={busy} className="w-full max-w-xl space-y-5">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label={t.name} hint={t.nameHint} error={fieldError('name')} value={draft.name} onValue={set('name')} autoFocus autoComplete="off" spellCheck={false} />
        <Field label={t.namespace} hint={t.namespaceHint} error={fieldError('namespace')} value={draft.namespace} onValue={set('namespace')} autoComplete="off" spellCheck={false} />
        <Field label={t.listenPort} hint={t.listenPortHint} error={fieldError('port')} value={draft.port} onValue={set('port')} inputMode="numeric" />
        <Field label={t.ttl} hint={t.ttlHint} error={fieldError('ttl')} value={draft.ttl} onValue={set('ttl')} inputMode="numeric" />
      </div>

      <fieldset className="space-y-2">
        <legend className="mb-2 text-sm font-medium">{t.rendezvousServer}</legend>
        {presets.map((p) => (
          <label
            key={p.value}
            className="flex cursor-pointer items-center gap-3 rounded-lg border border-zinc-200 px-3 py-2.5 transition has-checked:border-sky-500 has-checked:bg-sky-50 dark:border-zinc-800 dark:has-checked:border-sky-500 dark:has-checked:bg-sky-950/40"
          >
            <input type="radio" name="preset" value={p.value} checked={draft.preset === p.value} onChange={() => setPreset(p.value)}
              aria-invalid={draft.preset === 'unb' && p.value === 'unb' && check.rendezvous ? true : undefined} className="accent-sky-600" />
            <span className="flex min-w-0 flex-col">
              <span className="text-sm font-medium">{p.label}</span>
              <span className="truncate text-xs text-zinc-600 dark:text-zinc-400">{p.detail}</span>
            </span>
          </label>
        ))}
        {draft.preset === 'local' && (
          <Field label={t.serverPort} error={fieldError('localPort')} value={draft.localPort} onValue={set('localPort')} inputMode="numeric" className="pt-1 sm:w-1/2" />
        )}
        {draft.preset === 'custom' && (
          <Field label={t.serverAddress} error={fieldError('custom')} value={draft.custom} onValue={set('custom')} placeholder="192.168.0.10:8080" autoComplete="off" spellCheck={false} className="pt-1" />
        )}
        {draft.preset === 'unb' && check.rendezvous && (
          <p role="alert" className="text-xs text-red-700 dark:text-red-400">
            {textOf(check.rendezvous)}
          </p>
        )}
        {check.rendezvous?.detail && <div className="text-xs text-zinc-600 dark:text-zinc-400"><Details text={check.rendezvous.detail} /></div>}
        {laterServer && (
          <button type="button" onClick={() => void join(false)} disabled={busy} className="text-xs font-medium text-sky-800 underline dark:text-sky-300">
            {t.joinAnyway}
          </button>
        )}
      </fieldset>

      {serverError && (
        <div role="alert" data-form-error tabIndex={-1} className="rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-700 dark:border-red-900 dark:bg-red-950/50 dark:text-red-300">
          <ErrorText error={serverError} />
        </div>
      )}

      <div className="flex justify-end gap-2">
        {onCancel && (
          <button type="button" onClick={onCancel} className="rounded-lg px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:hover:bg-zinc-800">
            {t.cancel}
          </button>
        )}
        <button type="submit" disabled={busy} className="rounded-lg bg-sky-700 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-800 disabled:opacity-60">
          {busy ? t.joining : profile ? t.save : t.join}
        </button>
      </div>
    </form>
  );
}
