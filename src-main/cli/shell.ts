// The terminal client's commands and output. In text mode people read it; with --json every
// engine event is one JSON object per line and command results are `{"event":"result",...}`.

import { resolve } from 'node:path';
import type { Engine } from '../engine/engine.ts';
import { EngineCommandError, type EngineEvents, type FileTransfer, type PeerKeyView, type PeerView } from '../engine/api.ts';
import { formatSize } from '../engine/extensions/files.ts';
import { validateIdentityField } from '../engine/config.ts';
import { formatLogRecord, parseLogLevel } from '../engine/log.ts';
import { conversationKind, conversationPeer, unverifiedConversation } from '../../src-shared/chat-api.ts';
import { dmKey, type ConversationKey, type MessageStore, type SearchHit, type StoredMessage } from '../engine/store/store.ts';
import { isValidPeerId } from '../engine/wire/messages.ts';

const HISTORY_DEFAULT = 20;
const HISTORY_MAX = 500;
const SEARCH_MAX = 50;

export const HELP = `Commands (a leading / is optional):
  peers [*|#ns]                 discover and list peers (all, or one namespace)
  msg <peer_id> <text>          direct message, e.g. msg bob@CIC oi
  pub * <text>                  message to everyone connected
  pub #<ns> <text>              message to a namespace
  history <peer_id|#ns|*> [n]   the last n messages of a conversation (default ${HISTORY_DEFAULT}, at most ${HISTORY_MAX})
  search <text>                 messages with these words (accents ignored, word starts), newest first
  cancel <msg_id>               take back a direct message still waiting in the outbox
  conn                          open connections (sealed or not encrypted)
  keys [peer_id]                our key's fingerprint and the keys pinned for peers, with safety numbers
  verify <peer_id>              mark a peer's safety number as compared with theirs
  accept <peer_id>              accept the new key of a peer whose key changed: what waits for it is sent
  send <peer_id> <path>         offer a file to a ChatP2P peer; it goes once they accept
  accept <id> [dir]             accept a file offer (into dir, or the download folder)
  decline <id>                  decline a file offer
  transfers                     file transfers and how far each got
  stop <id>                     cancel a file transfer, ours or theirs
  status                        registration, address, counters
  rtt                           round-trip times
  reconnect [peer_id]           clear failures and dial now
  receipts on|off               read receipts to and from ChatP2P peers (on by default)
  log <LEVEL>                   DEBUG, INFO, WARN or ERROR
  help                          this text
  quit                          say BYE to every peer, unregister and exit (after the file
                                transfers under way; quit again leaves them for next time)`;

export interface ShellOutput {
  /** Program output: chat, results (stdout). */
  out(line: string): void;
  /** Diagnostics: logs, errors in text mode (stderr). */
  err(line: string): void;
}

export class Shell {
  private readonly engine: Engine;
  private readonly store: MessageStore;
  private readonly io: ShellOutput;
  private readonly json: boolean;
  private readonly peerStates = new Map<string, string>();
  /** The registration line last printed: a repeat of the same news is not printed again. */
  private lastRegistration = '';
  /** Paths typed by the user are relative to the folder they ran the client from. */
  private readonly cwd: string;

  /** `store` is the engine's: history and search read what it journals. */
  constructor(engine: Engine, store: MessageStore, io: ShellOutput, json: boolean, cwd = process.cwd()) {
    this.engine = engine;
    this.store = store;
    this.io = io;
    this.json = json;
    this.cwd = cwd;
    for (const name of ['registration', 'peer', 'peer-removed', 'message', 'delivery', 'typing', 'keys', 'transfer', 'log'] as const) {
      engine.on(name, (payload) => (this.json ? this.io.out(JSON.stringify({ event: name, ...payload })) : this.show(name, payload)));
    }
  }

  /** Runs one command line; resolves with 'quit' when the user asked to leave. */
  async run(line: string): Promise<'quit' | undefined> {
    const trimmed = line.trim().replace(/^\//, '');
    if (trimmed === '') return undefined;
    const [command = '', ...rest] = trimmed.split(/\s+/);
    const argText = trimmed.slice(command.length).trimStart();
    try {
      switch (command.toLowerCase()) {
        case 'msg': {
          const [peerId] = rest;
          const text = argText.slice((peerId ?? '').length).trimStart();
          if (!peerId || !text) throw new EngineCommandError('usage: msg <peer_id> <text>');
          this.engine.sendDirect(peerId, text);
          return undefined;
        }
        case 'pub': {
          const [scope] = rest;
          const text = argText.slice((scope ?? '').length).trimStart();
          if (!scope || !text) throw new EngineCommandError('usage: pub * <text> | pub #<ns> <text>');
          const sent = this.engine.publish(scope, text);
          if (!this.json && sent.recipients === 0) this.io.out(`(nobody connected in ${sent.to} received it)`);
          return undefined;
        }
        case 'history': {
          const conversation = conversationKey(rest[0]);
          const n = rest[1] === undefined ? HISTORY_DEFAULT : /^\d+$/.test(rest[1]) ? Number(rest[1]) : NaN;
          if (!conversation || rest.length > 2) throw new EngineCommandError('usage: history <peer_id|#ns|*> [n]');
          if (!(n >= 1 && n <= HISTORY_MAX)) throw new EngineCommandError(`n must be 1 to ${HISTORY_MAX}`);
          const page = this.store.page(conversation, { limit: n });
          // DMs that claimed this peer_id without its pinned key are listed apart, never among its own.
          const peerId = conversationPeer(conversation);
          const apartKey = peerId === undefined ? undefined : unverifiedConversation(peerId);
          const apart = apartKey === undefined ? undefined : this.store.page(apartKey, { limit: n });
          const unverified = apart && apart.messages.length > 0 ? { conversation: apartKey, messages: apart.messages, hasOlder: apart.hasOlder } : undefined;
          this.result('history', { conversation, messages: page.messages, hasOlder: page.hasOlder, ...(unverified ? { unverified } : {}) }, () => [
            ...(page.hasOlder ? ['(older messages not shown)'] : []),
            ...(page.messages.length === 0 ? [`(no messages ${peerId === undefined ? 'in' : 'with'} ${label(conversation)})`] : page.messages.map(describeStored)),
            ...(unverified
              ? [
                  `-- unverified, apart from ${peerId}: these came over a connection that could not prove ${peerId}'s pinned key --`,
                  ...(unverified.hasOlder ? ['(older messages not shown)'] : []),
                  ...unverified.messages.map(describeStored),
                ]
              : []),
          ]);
          return undefined;
        }
        case 'search': {
          if (!argText) throw new EngineCommandError('usage: search <text>');
          const hits = this.store.search(argText, SEARCH_MAX);
          this.result('search', { text: argText, hits }, () =>
            hits.length === 0 ? [`(no messages match "${argText}")`] : [...hits.map(describeHit), ...(hits.length === SEARCH_MAX ? [`(the ${SEARCH_MAX} newest shown)`] : [])],
          );
          return undefined;
        }
        case 'cancel':
          if (!rest[0] || rest.length > 1) throw new EngineCommandError('usage: cancel <msg_id>');
          // Its `delivery` event (cancelled) is what the user sees.
          this.engine.cancel(rest[0]);
          return undefined;
        case 'send': {
          const [peerId] = rest;
          const path = argText.slice((peerId ?? '').length).trimStart();
          if (!peerId || !path) throw new EngineCommandError('usage: send <peer_id> <path>');
          // Its `transfer` event (offered) is what the user sees.
          await this.engine.sendFile(peerId, resolve(this.cwd, path));
          return undefined;
        }
        case 'accept':
          // A peer_id (name@namespace) names a changed key to take; a file offer's id has no '@'.
          if (rest[0]?.includes('@')) return this.keyCommand('accept', rest);
          if (!rest[0] || rest.length > 2) throw new EngineCommandError('usage: accept <id> [dir]');
          this.engine.acceptFile(rest[0], rest[1] === undefined ? undefined : resolve(this.cwd, rest[1]));
          return undefined;
        case 'decline':
          if (!rest[0] || rest.length > 1) throw new EngineCommandError('usage: decline <id>');
          this.engine.declineFile(rest[0]);
          return undefined;
        case 'stop':
          if (!rest[0] || rest.length > 1) throw new EngineCommandError('usage: stop <id>');
          this.engine.cancelTransfer(rest[0]);
          return undefined;
        case 'transfers': {
          const transfers = this.engine.transfers();
          this.result('transfers', { transfers }, () => (transfers.length === 0 ? ['No file transfers.'] : transfers.map(describeTransfer)));
          return undefined;
        }
        case 'peers': {
          const scope = rest[0];
          const peers = (await this.engine.discover()).filter((p) => scope === undefined || scope === '*' || `#${p.namespace}` === scope || p.namespace === scope);
          this.result('peers', { peers }, () => (peers.length === 0 ? ['No peers.'] : peers.map(describePeer)));
          return undefined;
        }
        case 'conn': {
          const open = this.engine.peers().filter((p) => p.state === 'open');
          this.result('conn', { connections: open }, () =>
            open.length === 0 ? ['No open connections.'] : open.map((p) => `${p.peerId}  ${p.direction}  ${p.address ?? ''}${p.pipelined ? '  pipelined' : ''}  ${securityLabel(p)}`),
          );
          return undefined;
        }
        case 'status': {
          const s = this.engine.status();
          const r = s.registration;
          this.result('status', { status: s }, () => [
            `You are ${s.peerId}, listening on ${s.listen.host}:${s.listen.port}`,
            `Rendezvous ${r.server}: ${r.state}${r.ip ? `, seen as ${r.ip}` : ''}${r.expiresAt ? `, record expires in ${Math.max(0, Math.round((r.expiresAt - Date.now()) / 1000))} s` : ''}${r.error ? ` (${r.error})` : ''}`,
            `Peers: ${s.peers.open} connected of ${s.peers.known} known${s.avgRttMs === undefined ? '' : `, average RTT ${s.avgRttMs.toFixed(1)} ms`}`,
            `Log level ${s.logLevel}; invalid frames ${s.counters.invalidFrames}, spoofed src ${s.counters.spoofed}, duplicates ${s.counters.duplicates}`,
          ]);
          return undefined;
        }
        case 'rtt': {
          const open = this.engine.peers().filter((p) => p.state === 'open');
          this.result('rtt', { rtt: open.map(({ peerId, lastRttMs, avgRttMs }) => ({ peerId, lastRttMs, avgRttMs })) }, () =>
            open.length === 0 ? ['No open connections.'] : open.map((p) => `${p.peerId}  last ${ms(p.lastRttMs)}  average ${ms(p.avgRttMs)}`),
          );
          return undefined;
        }
        case 'keys': {
          if (rest.length > 1) throw new EngineCommandError('usage: keys [peer_id]');
          const keys = this.engine.keys(rest[0]);
          const own = this.engine.identityFingerprint;
          this.result('keys', { identity: own, keys }, () => [
            `Your identity key: ${own}`,
            ...(keys.length === 0 ? [rest[0] ? `No key pinned for ${rest[0]}: it has not had a secure session with you.` : 'No keys pinned yet.'] : keys.flatMap(describeKey)),
          ]);
          return undefined;
        }
        case 'verify':
          return this.keyCommand('verify', rest);
        case 'reconnect':
          this.engine.reconnect(rest[0]);
          this.result('reconnect', {}, () => [rest[0] ? `Dialing ${rest[0]}.` : 'Dialing every peer not connected.']);
          return undefined;
        case 'receipts':
          if (rest.length !== 1 || (rest[0] !== 'on' && rest[0] !== 'off')) throw new EngineCommandError('usage: receipts on|off');
          this.engine.setReadReceipts(rest[0] === 'on');
          this.result('receipts', { readReceipts: rest[0] === 'on' }, () => [rest[0] === 'on' ? 'Read receipts on.' : 'Read receipts off: you send none and see none.']);
          return undefined;
        case 'log': {
          const level = parseLogLevel(rest[0] ?? '');
          if (!level) throw new EngineCommandError('usage: log DEBUG|INFO|WARN|ERROR');
          this.engine.setLogLevel(level);
          return undefined;
        }
        case 'help':
          this.result('help', { text: HELP }, () => [HELP]);
          return undefined;
        case 'quit':
        case 'exit':
          return 'quit';
        default:
          throw new EngineCommandError(`unknown command "${command}"; type help`);
      }
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      if (this.json) this.io.out(JSON.stringify({ event: 'error', command, message: err.message }));
      else this.io.err(`Error: ${err.message}`);
      return undefined;
    }
  }

  /** Leaving waits for DMs on their way (an ACK can take several attempts): say so, and how to skip it. */
  showWaiting(): void {
    if (!this.json) this.io.err('Waiting for the messages on their way to be acknowledged; Ctrl+C leaves now and keeps them in the outbox.');
  }

  /**
   * Leaving waits for the file transfers under way: says how many and how to leave them for the
   * next run; resolves once none is under way (done, failed or cancelled by either side).
   */
  whenTransfersEnd(): Promise<void> {
    const running = () => this.engine.transfers().filter((t) => t.state === 'transferring').length;
    const n = running();
    if (n === 0) return Promise.resolve();
    if (this.json) this.io.out(JSON.stringify({ event: 'waiting', transfers: n }));
    else this.io.err(`(waiting for ${n} file transfer${n === 1 ? '' : 's'}; type quit again or press Ctrl+C to leave ${n === 1 ? 'it' : 'them'} for next time)`);
    return new Promise((resolve) => {
      const off = this.engine.on('transfer', () => {
        if (running() > 0) return;
        off();
        resolve();
      });
    });
  }

  /** At exit: the transfers the next run goes on with, if any. */
  showUnfinishedTransfers(): void {
    const unfinished = this.store.transfers().filter((t) => t.state === 'transferring' || (t.state === 'offered' && t.direction === 'out'));
    if (unfinished.length === 0) return;
    if (this.json) {
      this.io.out(JSON.stringify({ event: 'unfinished', transfers: unfinished }));
      return;
    }
    const n = unfinished.length;
    const which = unfinished.map((t) => `${shown(t.name)} ${t.direction === 'in' ? 'from' : 'to'} ${t.peerId}`).join(', ');
    this.io.out(`(${n} file transfer${n === 1 ? ' goes' : 's go'} on next time: ${which})`);
  }

  /** At exit: what stays in the outbox for the next run, if anything. */
  showOutbox(): void {
    const waiting = this.store.pendingOutgoing();
    if (waiting.length === 0) return;
    if (this.json) {
      this.io.out(JSON.stringify({ event: 'outbox', messages: waiting }));
      return;
    }
    const n = waiting.length;
    const to = [...new Set(waiting.map((m) => m.to))].join(', ');
    this.io.out(`(${n} direct message${n === 1 ? ' waits' : 's wait'} in the outbox for next time: to ${to})`);
  }

  /** `verify <peer_id>`, or `accept <peer_id>` for a peer whose key changed. */
  private keyCommand(command: 'accept' | 'verify', rest: string[]): undefined {
    if (!rest[0] || rest.length > 1) throw new EngineCommandError(`usage: ${command} <peer_id>`);
    const key = command === 'verify' ? this.engine.verifyKey(rest[0]) : this.engine.acceptKey(rest[0]);
    this.result(command, { key }, () => [command === 'verify' ? `Marked the safety number of ${key.peerId} as verified.` : `Accepted the new key of ${key.peerId}.`, ...describeKey(key)]);
    return undefined;
  }

  private result(command: string, data: object, text: () => string[]): void {
    if (this.json) this.io.out(JSON.stringify({ event: 'result', command, ...data }));
    else for (const line of text()) this.io.out(line);
  }

  private show<K extends keyof EngineEvents>(name: K, payload: EngineEvents[K]): void {
    switch (name) {
      case 'message': {
        const m = payload as EngineEvents['message'];
        const from = m.unverified ? `${m.from}, unverified` : m.from;
        this.io.out(m.kind === 'dm' ? `[${from}] ${m.text}` : `[${from} -> ${m.to}] ${m.text}`);
        // Printed is read: a ChatP2P sender is told so (unless receipts are off).
        // Not for an unverified one: its msg_id is no business of the real peer's.
        if (m.kind === 'dm' && !m.unverified) this.engine.markRead(m.from, [m.msgId]);
        return;
      }
      case 'typing': {
        const t = payload as EngineEvents['typing'];
        if (t.typing) this.io.out(`(${t.peerId} is typing…)`);
        return;
      }
      case 'keys': {
        const k = payload as EngineEvents['keys'];
        if (k.keyChanged) this.io.out(`! The identity key of ${k.peerId} changed. Your messages to it wait until you type: accept ${k.peerId}`);
        return;
      }
      case 'delivery': {
        const d = payload as EngineEvents['delivery'];
        if (d.kind !== 'dm') return;
        if (d.state === 'delivered') this.io.out(`(delivered to ${d.to})`);
        else if (d.state === 'read') this.io.out(`(read by ${d.to})`);
        else if (d.state === 'queued' && d.error) this.io.out(`(not delivered to ${d.to} yet: ${d.error}; it waits in the outbox as ${d.msgId})`);
        else if (d.state === 'cancelled') this.io.out(`(cancelled the message to ${d.to})`);
        return;
      }
      case 'registration': {
        const r = payload as EngineEvents['registration'];
        let line = '';
        // One outage is told once, however its error text varies (refused, then closed without a reply).
        let key = '';
        if (r.unreachableSince !== undefined) {
          line = `Rendezvous ${r.server} does not answer${r.error ? `: ${r.error}` : ''}`;
          key = `unreachable since ${r.unreachableSince}`;
        } else if (r.state === 'registered') line = `Registered at ${r.server} as ${this.engine.peerId}; the server sees you as ${r.ip ?? '?'} (TTL ${r.ttl} s)`;
        else if (r.error && r.state !== 'registering') line = `Rendezvous ${r.server}: ${r.state}: ${r.error}`;
        if (line === '') return;
        if (key === '') key = line;
        if (key !== this.lastRegistration) this.io.err(line);
        this.lastRegistration = key;
        return;
      }
      case 'peer': {
        const p = payload as PeerView;
        const before = this.peerStates.get(p.peerId);
        this.peerStates.set(p.peerId, p.state);
        if (before !== p.state && (p.state === 'open' || before === 'open' || p.state === 'failed')) {
          this.io.out(`* ${p.peerId} ${p.state === 'open' ? `connected (${p.direction}, ${securityLabel(p)})` : p.state === 'failed' ? `unreachable: ${p.lastError ?? ''}` : 'disconnected'}`);
        }
        return;
      }
      case 'transfer': {
        const line = transferLine(payload as FileTransfer);
        if (line) this.io.out(line);
        return;
      }
      case 'peer-removed':
        this.peerStates.delete((payload as EngineEvents['peer-removed']).peerId);
        return;
      case 'log': {
        const l = payload as EngineEvents['log'];
        this.io.err(formatLogRecord({ time: new Date(l.time), level: l.level, module: l.module, message: l.message }));
        return;
      }
    }
  }
}

/** A name from the network, printable on one line: control characters shown as `?`. */
function shown(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** What a transfer event tells the user, when it changed state (progress is for `transfers`). */
function transferLine(t: FileTransfer): string | undefined {
  const name = shown(t.name);
  if (t.direction === 'in') {
    switch (t.state) {
      case 'offered':
        return `(file offer ${t.id} from ${t.peerId}: ${name}, ${formatSize(t.size)}; accept ${t.id} or decline ${t.id})`;
      case 'complete':
        return `(file ${name} received from ${t.peerId}, verified: ${t.path})`;
      case 'transferring':
        return undefined;
      default:
        return `(file ${name} from ${t.peerId}: ${t.state}${t.error ? `: ${t.error}` : ''})`;
    }
  }
  switch (t.state) {
    case 'offered':
      return `(offered ${name}, ${formatSize(t.size)}, to ${t.peerId} as ${t.id}; it goes once they accept)`;
    case 'complete':
      return `(file ${name} delivered to ${t.peerId}, verified)`;
    case 'transferring':
      return undefined;
    default:
      return `(file ${name} to ${t.peerId}: ${t.state}${t.error ? `: ${t.error}` : ''})`;
  }
}

function describeTransfer(t: FileTransfer): string {
  const percent = t.size === 0 ? 100 : Math.floor((t.offset * 100) / t.size);
  const rate = t.bytesPerSecond === undefined ? '' : `  ${formatSize(Math.round(t.bytesPerSecond))}/s`;
  const where = t.path === undefined ? '' : `  ${t.path}${t.direction === 'in' && t.state === 'transferring' ? '.part' : ''}`;
  return `${t.id}  ${t.direction === 'in' ? `from ${t.peerId}` : `to ${t.peerId}`}  ${shown(t.name)}  ${formatSize(t.size)}  ${t.state}  ${percent}%${rate}${where}`;
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(1)} ms`;
}

function securityLabel(p: PeerView): string {
  switch (p.security) {
    case 'encrypted':
      return 'sealed';
    case 'key-changed':
      return 'sealed, KEY CHANGED';
    case 'unverified':
      return 'NOT ENCRYPTED, though its key is pinned: unverified';
    default:
      return 'not encrypted';
  }
}

function describeKey(k: PeerKeyView): string[] {
  return [
    `${k.peerId}${k.verified ? '  verified' : ''}${k.keyChanged ? '  KEY CHANGED (accept it to send)' : ''}`,
    `  key ${k.fingerprint}`,
    `  safety number ${k.safetyNumber}`,
  ];
}

function describePeer(p: PeerView): string {
  const extra = [p.direction, p.address, p.avgRttMs === undefined ? undefined : `RTT ${ms(p.avgRttMs)}`, p.state === 'failed' ? p.lastError : undefined];
  return `${p.peerId}  ${p.state}  ${extra.filter(Boolean).join('  ')}`;
}

/** `dm:<peer_id>` for a peer_id, `#ns` and `*` as they are; undefined for anything else. */
function conversationKey(target: string | undefined): ConversationKey | undefined {
  if (target === '*') return target;
  if (target?.startsWith('#')) return validateIdentityField('namespace', target.slice(1)) ? undefined : target;
  return isValidPeerId(target) && target.includes('@') ? dmKey(target) : undefined;
}

/** A conversation as the user names it in `history`: the peer_id, `#ns` or `*` (the unverified one marked). */
function label(conversation: ConversationKey): string {
  const peerId = conversationPeer(conversation);
  if (peerId === undefined) return conversation;
  return conversationKind(conversation) === 'unverified' ? `${peerId}, unverified` : peerId;
}

/** Local time, to the second. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function storedAt(m: StoredMessage): number {
  return m.direction === 'in' ? m.receivedAt : m.createdAt;
}

/** Ours, when it did not reach its peer: why, and the msg_id that `cancel` takes. */
function deliveryNote(m: StoredMessage): string {
  if (m.direction !== 'out') return '';
  if (m.kind === 'pub') return m.recipients === 0 ? '  (nobody connected received it)' : '';
  switch (m.state) {
    case 'queued':
      return `  (queued${m.error ? `: ${m.error}` : ''}; msg_id ${m.msgId})`;
    case 'sent':
      return `  (sent, no ACK yet; msg_id ${m.msgId})`;
    case 'cancelled':
      return '  (cancelled)';
    case 'read':
      return '  (read)';
    case 'delivered':
      return '';
  }
}

function describeStored(m: StoredMessage): string {
  return `${localTime(storedAt(m))}  [${m.from}${m.direction === 'in' && m.unverified ? ', unverified' : ''}] ${m.text}${deliveryNote(m)}`;
}

/** One line per hit: conversation, time, sender, and the snippet with the matched words in [ ]. */
function describeHit(hit: SearchHit): string {
  const snippet = hit.parts.map((p) => (p.match ? `[${p.text}]` : p.text)).join('').replace(/\s*\n\s*/g, ' ');
  return `${label(hit.conversation)}  ${localTime(storedAt(hit.message))}  ${hit.message.from}: ${snippet}`;
}
