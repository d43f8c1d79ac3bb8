// The profile form's fields as typed text, and the protocol's rules for them (PROTOCOL.md §1-2),
// checked here so the user sees the problem before the host refuses it.

import { LIMITS, RENDEZVOUS_PRESETS, type Profile, type RendezvousPreset } from '../../src-shared/chat-api.ts';
import type { Strings } from '../i18n.ts';

export interface ProfileDraft {
  name: string;
  namespace: string;
  port: string;
  ttl: string;
  preset: RendezvousPreset;
  /** The embedded server's port, for "This computer". */
  localPort: string;
  /** `host:port`, for another server. */
  custom: string;
}

export type DraftField = Exclude<keyof ProfileDraft, 'preset'>;
export type DraftErrors = Partial<Record<DraftField, string>>;

export function draftOf(profile: Profile | undefined): ProfileDraft {
  const rendezvous = profile?.rendezvous;
  return {
    name: profile?.name ?? '',
    namespace: profile?.namespace ?? '',
    port: String(profile?.port ?? 0),
    ttl: String(profile?.ttl ?? 7200),
    preset: rendezvous?.preset ?? 'local',
    localPort: String(rendezvous?.preset === 'local' ? rendezvous.port : RENDEZVOUS_PRESETS.local.port),
    custom: rendezvous?.preset === 'custom' ? `${rendezvous.host}:${rendezvous.port}` : '',
  };
}

const wholeNumber = (text: string, min: number, max: number): number | undefined => {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return value >= min && value <= max ? value : undefined;
};

/** `host:port`, `[v6]:port`; undefined when either part is missing or the port is out of range. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^\s*(?:\[([^\]]+)\]|([^\s:]+)):(\d+)\s*$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = match?.[3] === undefined ? undefined : wholeNumber(match[3], 1, 65535);
  return host && port !== undefined ? { host, port } : undefined;
}

function identityError(label: string, value: string, t: Strings): string | undefined {
  const length = [...value].length;
  if (length < 1 || length > LIMITS.maxIdentityChars) return t.errIdentityLength(label);
  if (/[\u0000-\u001f\u007f@\s]/u.test(value)) return t.errIdentityChars(label);
  return undefined;
}

export function draftErrors(draft: ProfileDraft, t: Strings): DraftErrors {
  const errors: DraftErrors = {
    name: identityError(t.name, draft.name, t),
    namespace: identityError(t.namespace, draft.namespace, t),
    port: wholeNumber(draft.port, 0, 65535) === undefined ? t.errPort(0) : undefined,
    ttl: wholeNumber(draft.ttl, LIMITS.minTtl, LIMITS.maxTtl) === undefined ? t.errTtl : undefined,
  };
  if (draft.preset === 'local' && wholeNumber(draft.localPort, 1, 65535) === undefined) errors.localPort = t.errPort(1);
  if (draft.preset === 'custom' && !parseHostPort(draft.custom)) errors.custom = t.errAddress;
  return Object.fromEntries(Object.entries(errors).filter(([, e]) => e)) as DraftErrors;
}

/** The profile a valid draft stands for. */
export function profileOf(draft: ProfileDraft): Profile {
  const server =
    draft.preset === 'custom'
      ? parseHostPort(draft.custom)!
      : draft.preset === 'local'
        ? { host: RENDEZVOUS_PRESETS.local.host, port: Number(draft.localPort) }
        : RENDEZVOUS_PRESETS.unb;
  return {
    name: draft.name,
    namespace: draft.namespace,
    port: Number(draft.port),
    ttl: Number(draft.ttl),
    rendezvous: { preset: draft.preset, host: server.host, port: server.port },
  };
}
