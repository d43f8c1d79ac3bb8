// Settings and profile: defaults, validation of anything that arrives from the renderer or from a
// settings file, and the engine config they make. Every value is checked here, once, whoever
// hosts the service (Electron main with electron-store, or the browser host with a JSON file).

import {
  BROADCAST,
  LIMITS,
  LOG_LEVELS,
  RENDEZVOUS_PRESETS,
  conversationPeer,
  type ConversationId,
  type Profile,
  type Settings,
  type FileSettings,
  type FileSettingsPatch,
  type SettingsPatch,
  type Timers,
} from '../../src-shared/chat-api.ts';
import { isAbsolute } from 'node:path';
import { defaultConfig, mergeConfig, validateIdentityField, type EngineConfig } from '../engine/config.ts';
import { isValidPeerId } from '../engine/wire/messages.ts';

/** Where settings live: electron-store in the desktop app, a JSON file in the browser host. */
export interface SettingsStore {
  /** The raw saved value (undefined when nothing is saved yet); `normalizeSettings` checks it. */
  read(): unknown;
  write(settings: Settings): void;
}

/** A value from outside that breaks a rule; its message is shown to the user as it is. */
export class SettingsError extends Error {}

const TIMER_RANGES: Record<keyof Timers, [min: number, max: number]> = {
  ackTimeoutS: [1, 120],
  pingIntervalS: [1, 3600],
  discoverIntervalS: [5, 3600],
  maxReconnectAttempts: [0, 100],
};
const MAX_NOTIFY_CHANNELS = 256;
const MAX_HOST_CHARS = 253;

export function defaultSettings(): Settings {
  return {
    profile: undefined,
    timers: { ackTimeoutS: 5, pingIntervalS: 30, discoverIntervalS: 60, maxReconnectAttempts: 5 },
    connectionPolicy: 'all',
    notifications: true,
    notifyChannels: [],
    doNotDisturb: false,
    sound: false,
    muted: {},
    readReceipts: true,
    theme: 'system',
    language: 'system',
    minimizeToTray: false,
    logLevel: 'INFO',
    files: { downloadDir: undefined, maxMB: 16 * 1024, autoAcceptMB: 0 },
  };
}

const MAX_FILE_MB = 1024 * 1024;
const MAX_PATH_CHARS = 4096;

function fileSettings(value: unknown): FileSettingsPatch {
  if (!isObject(value)) throw new SettingsError('files must be an object');
  const files: FileSettingsPatch = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'downloadDir') {
      if (v === undefined || v === null) files.downloadDir = null;
      else if (typeof v !== 'string' || v.length > MAX_PATH_CHARS || !isAbsolute(v) || /[\u0000-\u001f]/.test(v)) throw new SettingsError('the download folder must be an absolute path');
      else files.downloadDir = v;
    } else if (key === 'maxMB') files.maxMB = integer(v, 'the maximum file size (MB)', 1, MAX_FILE_MB);
    else if (key === 'autoAcceptMB') files.autoAcceptMB = integer(v, 'auto-accept up to (MB)', 0, MAX_FILE_MB);
    else throw new SettingsError(`unknown file setting ${JSON.stringify(key).slice(0, 80)}`);
  }
  return files;
}

/** A plain object: IPC's structured clone also carries a Date, a Map or a Set, which must not pass. */
export const isObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(`${what} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SettingsError(`${what} must be one of: ${allowed.join(', ')}`);
  }
  return value as T;
}

function boolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new SettingsError(`${what} must be true or false`);
  return value;
}

function identity(field: 'name' | 'namespace', value: unknown): string {
  if (typeof value !== 'string') throw new SettingsError(`${field} must be text`);
  const problem = validateIdentityField(field, value);
  if (problem) throw new SettingsError(problem);
  return value;
}

/** A direct chat (`dm:<peer_id>`, or the unverified one apart from it) or a channel. */
export function isConversationId(value: unknown): value is ConversationId {
  if (isChannelId(value)) return true;
  const peerId = typeof value === 'string' ? conversationPeer(value) : undefined;
  return peerId !== undefined && isValidPeerId(peerId);
}

const MAX_MUTED = 1000;

function mutedChats(value: unknown): Settings['muted'] {
  if (!isObject(value)) throw new SettingsError('muted must be an object of chats');
  const entries = Object.entries(value);
  if (entries.length > MAX_MUTED) throw new SettingsError(`muted holds at most ${MAX_MUTED} chats`);
  const muted: Settings['muted'] = {};
  for (const [id, until] of entries) {
    if (!isConversationId(id)) throw new SettingsError(`muted: unknown chat ${JSON.stringify(id).slice(0, 80)}`);
    if (until !== 'always' && !(Number.isSafeInteger(until) && (until as number) > 0)) throw new SettingsError('muted: each chat is muted until a time (ms) or "always"');
    muted[id] = until as number | 'always';
  }
  return muted;
}

/** `*` or `#namespace`: a channel someone may publish to. */
export function isChannelId(value: unknown): boolean {
  return typeof value === 'string' && (value === BROADCAST || (value.startsWith('#') && validateIdentityField('namespace', value.slice(1)) === undefined));
}

export function validateProfile(raw: unknown): Profile {
  if (!isObject(raw)) throw new SettingsError('the profile must be an object');
  const rendezvous = raw.rendezvous;
  if (!isObject(rendezvous)) throw new SettingsError('choose a rendezvous server');
  const preset = oneOf(rendezvous.preset, 'rendezvous server', ['local', 'unb', 'custom'] as const);
  let host: string;
  if (preset === 'custom') {
    if (typeof rendezvous.host !== 'string' || !/^[^\s/@]{1,253}$/u.test(rendezvous.host) || /[\u0000-\u001f]/.test(rendezvous.host)) {
      throw new SettingsError(`the server address must be a host name or IP address of 1 to ${MAX_HOST_CHARS} characters`);
    }
    host = rendezvous.host;
  } else {
    host = RENDEZVOUS_PRESETS[preset].host;
  }
  // "This computer" keeps the port the user picked for the embedded server; the class server's is fixed.
  const serverPort = preset === 'unb' ? RENDEZVOUS_PRESETS.unb.port : integer(rendezvous.port, 'the server port', 1, 65535);
  return {
    name: identity('name', raw.name),
    namespace: identity('namespace', raw.namespace),
    port: integer(raw.port, 'port', 0, 65535),
    ttl: integer(raw.ttl, 'TTL (seconds)', LIMITS.minTtl, LIMITS.maxTtl),
    rendezvous: { preset, host, port: serverPort },
  };
}

/** Checks a patch from the renderer: known keys only, each value in range. */
export function validatePatch(raw: unknown): SettingsPatch {
  if (!isObject(raw)) throw new SettingsError('settings must be an object');
  const patch: SettingsPatch = {};
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case 'timers': {
        if (!isObject(value)) throw new SettingsError('timers must be an object');
        const timers: Partial<Timers> = {};
        for (const [name, seconds] of Object.entries(value)) {
          const range = Object.hasOwn(TIMER_RANGES, name) ? TIMER_RANGES[name as keyof Timers] : undefined;
          if (!range) throw new SettingsError(`unknown timer ${JSON.stringify(name).slice(0, 80)}`);
          timers[name as keyof Timers] = integer(seconds, name, ...range);
        }
        patch.timers = timers;
        break;
      }
      case 'connectionPolicy':
        patch.connectionPolicy = oneOf(value, key, ['all', 'namespace'] as const);
        break;
      case 'muted':
        patch.muted = mutedChats(value);
        break;
      case 'notifications':
      case 'doNotDisturb':
      case 'sound':
      case 'readReceipts':
      case 'minimizeToTray':
        patch[key] = boolean(value, key);
        break;
      case 'notifyChannels':
        if (!Array.isArray(value) || value.length > MAX_NOTIFY_CHANNELS || !value.every(isChannelId)) {
          throw new SettingsError(`notifyChannels must be a list of at most ${MAX_NOTIFY_CHANNELS} channels (* or #namespace)`);
        }
        patch.notifyChannels = [...new Set(value as ConversationId[])];
        break;
      case 'theme':
        patch.theme = oneOf(value, key, ['system', 'light', 'dark'] as const);
        break;
      case 'language':
        patch.language = oneOf(value, key, ['system', 'en', 'pt-BR'] as const);
        break;
      case 'logLevel':
        patch.logLevel = oneOf(value, key, LOG_LEVELS);
        break;
      case 'files':
        patch.files = fileSettings(value);
        break;
      default:
        throw new SettingsError(`unknown setting ${JSON.stringify(key).slice(0, 80)}`);
    }
  }
  return patch;
}

export function applyPatch(settings: Settings, patch: SettingsPatch): Settings {
  const { downloadDir, ...files } = patch.files ?? {};
  return {
    ...settings,
    ...patch,
    timers: { ...settings.timers, ...patch.timers },
    files: { ...settings.files, ...files, ...(downloadDir === undefined ? {} : { downloadDir: downloadDir ?? undefined }) },
  };
}

/**
 * Reads saved settings: what is valid is kept, the rest falls back to defaults (a hand-edited or
 * older file must never stop the app from opening). Returns the problems found for the log.
 */
export function normalizeSettings(raw: unknown): { settings: Settings; problems: string[] } {
  let settings = defaultSettings();
  const problems: string[] = [];
  if (raw === undefined) return { settings, problems };
  if (!isObject(raw)) return { settings, problems: ['saved settings are not an object; using defaults'] };
  for (const [key, value] of Object.entries(raw)) {
    try {
      if (key === 'profile') settings.profile = value === undefined || value === null ? undefined : validateProfile(value);
      else if (key === 'timers' && isObject(value)) {
        for (const [name, seconds] of Object.entries(value)) settings = keepValid(settings, { timers: { [name]: seconds } }, problems);
      } else settings = applyPatch(settings, validatePatch({ [key]: value }));
    } catch (err) {
      problems.push(`saved ${key}: ${(err as Error).message}`);
    }
  }
  return { settings, problems };
}

function keepValid(settings: Settings, raw: unknown, problems: string[]): Settings {
  try {
    return applyPatch(settings, validatePatch(raw));
  } catch (err) {
    problems.push(`saved timers: ${(err as Error).message}`);
    return settings;
  }
}

/** The engine config for a profile; `listenHost` is where we accept peers, `downloads` the system's Downloads folder. */
export function engineConfigFor(profile: Profile, settings: Settings, listenHost: string, downloads?: string): EngineConfig {
  const { timers } = settings;
  const base = defaultConfig({ name: profile.name, namespace: profile.namespace, port: profile.port });
  return mergeConfig(base, {
    listenHost,
    ttl: profile.ttl,
    rendezvous: { host: profile.rendezvous.host, port: profile.rendezvous.port, discoverIntervalMs: timers.discoverIntervalS * 1000 },
    network: { ackTimeoutMs: timers.ackTimeoutS * 1000 },
    keepalive: { pingIntervalMs: timers.pingIntervalS * 1000 },
    peerConnection: { maxReconnectAttempts: timers.maxReconnectAttempts, policy: settings.connectionPolicy },
    logging: { level: settings.logLevel },
    files: engineFilesConfig(settings.files, downloads),
  });
}

/** The engine's side of the file settings; `downloads` is the system's Downloads folder. */
export function engineFilesConfig(files: FileSettings, downloads: string | undefined): Partial<EngineConfig['files']> {
  const downloadDir = files.downloadDir ?? downloads;
  return { ...(downloadDir ? { downloadDir } : {}), maxBytes: files.maxMB * 2 ** 20, autoAcceptBytes: files.autoAcceptMB * 2 ** 20 };
}
