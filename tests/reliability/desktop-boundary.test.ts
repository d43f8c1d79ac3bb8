// The desktop boundary, table-driven over every ChatApi command: whatever a compromised renderer
// sends (wrong types in each argument, huge strings, values only IPC's structured clone can carry,
// names that are not commands, or a request from a frame that is not the app's page), main refuses
// it with a clear error and keeps working. The examples with their exact messages are in
// tests/service/chat-service.test.ts and tests/app/ipc.test.ts; this checks that none is missed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpcMainInvokeEvent } from 'electron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED_SENDER, registerCommandHandlers } from '../../src-main/app/ipc.ts';
import { ChatService } from '../../src-main/service/chat-service.ts';
import { jsonFileSettingsStore } from '../../src-main/web/settings-file.ts';
import { COMMANDS, commandChannel, isChatError, type CommandReply } from '../../src-shared/chat-api.ts';
import { FakeLog, FakeService } from '../app/fakes.ts';

const HUGE = 'x'.repeat(8 * 1024 * 1024);

/** Values of every kind a renderer could put in an argument, over IPC or JSON. */
const BAD_VALUES: [label: string, value: unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['0', 0],
  ['-1', -1],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['true', true],
  ['a bigint', 10n],
  ['an empty string', ''],
  ['a NUL', '\u0000'],
  ['a lone surrogate', '\ud800'],
  ['8 MiB of text', HUGE],
  ['8 MiB of text with @', `${HUGE}@CIC`],
  ['8 MiB of text after #', `#${HUGE}`],
  ['8 MiB of text after dm:', `dm:${HUGE}@CIC`],
  ['an empty list', []],
  ['a list of lists', [[['*']]]],
  ['an empty object', {}],
  ['an object with an own __proto__', JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {}}}')],
  ['a Date', new Date(0)],
  ['a Map', new Map([['theme', 'dark']])],
  ['bytes', new Uint8Array([1, 2, 3])],
];

/**
 * For each command: a valid value for each argument (so that one bad argument at a time is what
 * gets refused), and the values that are valid at a position (not refusals to check for).
 * Commands without arguments ignore extra ones; they are called with every bad value anyway.
 */
interface Row {
  valid: unknown[];
  allowed?: (position: number, value: unknown) => boolean;
  /** Values accepted today that should be refused: the `fails` test below holds them. */
  knownBug?: (position: number, value: unknown) => boolean;
}
const notPlain = (v: unknown) => v instanceof Date || v instanceof Map;
const short = (v: unknown) => typeof v === 'string' && v.length <= 200;
const ROWS: Partial<Record<string, Row>> = {
  getSnapshot: { valid: [] },
  startProfile: { valid: [{}] },
  checkProfile: { valid: [{}] },
  updateSettings: { valid: [{}], allowed: (_, v) => isEmptyObject(v), knownBug: (_, v) => notPlain(v) },
  sendDirect: { valid: ['bob@CIC', 'hi', 'm-1'], allowed: (p, v) => p === 2 && (v === undefined || v === null) },
  typing: { valid: ['#CIC'] },
  publish: { valid: ['#CIC', 'hi'] },
  retry: { valid: ['m-1'] },
  cancel: { valid: ['m-1'] },
  reconnect: { valid: ['bob@CIC'] },
  discover: { valid: [] },
  setLogLevel: { valid: ['INFO'] },
  history: { valid: ['#CIC', undefined], allowed: (p, v) => p === 1 && (v === undefined || v === null || isEmptyObject(v)), knownBug: (p, v) => p === 1 && notPlain(v) },
  search: { valid: ['oi'], allowed: (_, v) => short(v) },
  exportConversation: { valid: ['#CIC', 'text'] },
  deleteConversation: { valid: ['#CIC'] },
  markRead: { valid: ['#CIC', 1], allowed: (p, v) => p === 1 && (v === undefined || v === null) },
  markAllRead: { valid: [] },
  setDraft: { valid: ['#CIC', 'half written'], allowed: (p, v) => p === 1 && (v === '' || v === '\u0000' || v === '\ud800') },
  deleteMessage: { valid: ['#CIC', 1] },
  resend: { valid: ['m-1'] },
  setActiveConversation: { valid: [undefined], allowed: (_, v) => v === undefined || v === null },
  logs: { valid: [] },
  mute: { valid: ['#CIC', '1h'] },
  openLink: { valid: ['https://example.org/'] },
  keys: { valid: ['bob@CIC'], allowed: (_, v) => v === undefined || v === null },
  acceptKey: { valid: ['bob@CIC'] },
  verifyKey: { valid: ['bob@CIC', true] },
  chooseDownloadFolder: { valid: [] },
  attachFiles: { valid: ['bob@CIC'] },
  beginUpload: { valid: ['bob@CIC', 'a.txt', 1] },
  uploadChunk: { valid: ['u-1', 0, 'YQ=='] },
  finishUpload: { valid: ['u-1'] },
  acceptFile: { valid: ['f-1'] },
  declineFile: { valid: ['f-1'] },
  cancelTransfer: { valid: ['f-1'] },
  transfers: { valid: [] },
  fileSupport: { valid: ['bob@CIC'] },
  openDownload: { valid: ['f-1'] },
  previewDownload: { valid: ['f-1'] },
  showDownload: { valid: ['f-1'] },
};

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0 && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * What is wrong with a reply to a call that must be refused, or undefined if it is a refusal a
 * user (or a developer reading the log) can act on: a short sentence, no stack.
 */
function unclear(reply: CommandReply): string | undefined {
  if (reply.ok) return 'accepted';
  const { code, detail = '' } = reply.error;
  if (!isChatError(reply.error) || detail.length >= 300) return `refused with ${JSON.stringify(reply.error).slice(0, 100)}`;
  // `unexpected` is the service's wrapper for an exception no check anticipated.
  if (code === 'unexpected' || /\n\s+at /.test(detail)) return `refused with an unexpected exception: ${detail.slice(0, 200)}`;
  return undefined;
}

/** Calls `command` with each argument list; returns the calls that were not clearly refused. */
async function notRefused(service: ChatService, command: string, calls: [label: string, args: unknown][]): Promise<string[]> {
  const problems: string[] = [];
  for (const [label, args] of calls) {
    const problem = unclear(await service.dispatch(command, args));
    if (problem) problems.push(`${command} with ${label}: ${problem}`);
  }
  return problems;
}

/** Each bad value in each argument of `command` in turn, the others valid: the known bugs, or all but them. */
function badCalls(command: string, knownBugs = false): [string, unknown][] {
  const row = ROWS[command]!;
  const calls: [string, unknown][] = [];
  for (let position = 0; position < row.valid.length; position++) {
    for (const [label, value] of BAD_VALUES) {
      if (row.allowed?.(position, value) || (row.knownBug?.(position, value) ?? false) !== knownBugs) continue;
      calls.push([`${label} as argument ${position + 1}`, row.valid.map((v, i) => (i === position ? value : v))]);
    }
  }
  return calls;
}

describe('every ChatApi command in the service', () => {
  let dir: string;
  let service: ChatService;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chatp2p-boundary-'));
    // No profile: the checks under test run before anything could act, and nothing can.
    service = new ChatService({ store: jsonFileSettingsStore(join(dir, 'settings.json')), dataDir: dir, host: 'electron', listenHost: '127.0.0.1', openExternal: () => undefined });
  });
  afterAll(async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has a row in this table for every command', () => {
    expect(COMMANDS.filter((c) => ROWS[c] === undefined)).toEqual([]);
  });

  it.each(COMMANDS.map((c) => [c]))('%s refuses a wrong type, a huge string or an odd value in each argument', async (command) => {
    const notLists: [string, unknown][] = ['not a list', { 0: 'bob@CIC', length: 1 }, null, 42].map((args) => [`arguments ${JSON.stringify(args)}`, args]);
    expect(await notRefused(service, command, [...badCalls(command), ...notLists])).toEqual([]);
  });

  // IPC's structured clone carries a Date or a Map as such: neither may pass as a settings patch
  // or a history query.
  it('refuses objects that are not plain objects where a settings patch or history query goes', async () => {
    const problems = [...(await notRefused(service, 'updateSettings', badCalls('updateSettings', true))), ...(await notRefused(service, 'history', badCalls('history', true)))];
    expect(problems).toEqual([]);
  });

  it('refuses names that are not commands, including the ones every object has', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'handlers', 'dispatch', 'getSnapshot ', 'GETSNAPSHOT', 'chat:getSnapshot', '', HUGE, 42, null, undefined, {}, ['getSnapshot']]) {
      expect(await service.dispatch(name, [])).toEqual({ ok: false, error: { code: 'invalid-request', detail: 'unknown command' } });
    }
  });

  it('still works after all of that', async () => {
    const reply = await service.dispatch('getSnapshot', []);
    expect(reply.ok).toBe(true);
    expect(await service.dispatch('logs', [])).toMatchObject({ ok: true });
  });
});

describe('every ChatApi command over IPC', () => {
  type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;
  const handlers = new Map<string, Handler>();
  const service = new FakeService();
  const log = new FakeLog();
  registerCommandHandlers({ handle: (channel: string, handler: Handler) => void handlers.set(channel, handler) }, service, log);

  const STRANGERS: (string | null)[] = [
    'https://evil.example/',
    'http://localhost:5173/',
    'file:///usr/lib/chatp2p/index.html',
    'app://other/index.html',
    'app://chatp2p.evil/index.html',
    'app://chatp2p:8080/index.html',
    'APP://CHATP2P/index.html',
    'devtools://devtools/bundled/inspector.html',
    'chrome-extension://abcdef/page.html',
    'about:blank',
    'data:text/html,<script>1</script>',
    'not a url',
    '',
    // A frame that is gone (navigated away or destroyed) has no URL to check.
    null,
  ];

  it.each(COMMANDS.map((c) => [c]))('%s is refused from any frame but the app page, before the service sees it', async (command) => {
    const before = log.lines.length;
    for (const url of STRANGERS) {
      const event = { senderFrame: url === null ? null : { url } } as IpcMainInvokeEvent;
      expect(await handlers.get(commandChannel(command))!(event, 'bob@CIC', 'oi')).toEqual({ ok: false, error: REFUSED_SENDER });
    }
    expect(service.dispatched).toEqual([]);
    expect(log.lines.slice(before)).toHaveLength(STRANGERS.length);
    expect(log.lines.at(-1)).toBe(`Refused ${command} from a closed frame`);
    expect(await handlers.get(commandChannel(command))!({ senderFrame: { url: 'app://chatp2p/index.html' } } as IpcMainInvokeEvent)).toMatchObject({ ok: true });
    service.dispatched.length = 0;
  });
});
