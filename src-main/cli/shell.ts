// The terminal client's commands and output. In text mode people read it; with --json every
// engine event is one JSON object per line and command results are `{"event":"result",...}`.

import type { Engine } from '../engine/engine.ts';
import { EngineCommandError, type EngineEvents, type PeerView } from '../engine/api.ts';
import { formatLogRecord, parseLogLevel } from '../engine/log.ts';

export const HELP = `Commands (a leading / is optional):
  peers [*|#ns]          discover and list peers (all, or one namespace)
  msg <peer_id> <text>   direct message, e.g. msg bob@CIC oi
  pub * <text>           message to everyone connected
  pub #<ns> <text>       message to a namespace
  conn                   open connections
  status                 registration, address, counters
  rtt                    round-trip times
  reconnect [peer_id]    clear failures and dial now
  log <LEVEL>            DEBUG, INFO, WARN or ERROR
  help                   this text
  quit                   say BYE to every peer, unregister and exit`;

export interface ShellOutput {
  /** Program output: chat, results (stdout). */
  out(line: string): void;
  /** Diagnostics: logs, errors in text mode (stderr). */
  err(line: string): void;
}

export class Shell {
  private readonly engine: Engine;
  private readonly io: ShellOutput;
  private readonly json: boolean;
  private readonly peerStates = new Map<string, string>();

  constructor(engine: Engine, io: ShellOutput, json: boolean) {
    this.engine = engine;
    this.io = io;
    this.json = json;
    for (const name of ['registration', 'peer', 'peer-removed', 'message', 'delivery', 'log'] as const) {
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
        case 'peers': {
          const scope = rest[0];
          const peers = (await this.engine.discover()).filter((p) => scope === undefined || scope === '*' || `#${p.namespace}` === scope || p.namespace === scope);
          this.result('peers', { peers }, () => (peers.length === 0 ? ['No peers.'] : peers.map(describePeer)));
          return undefined;
        }
        case 'conn': {
          const open = this.engine.peers().filter((p) => p.state === 'open');
          this.result('conn', { connections: open }, () =>
            open.length === 0 ? ['No open connections.'] : open.map((p) => `${p.peerId}  ${p.direction}  ${p.address ?? ''}${p.pipelined ? '  pipelined' : ''}`),
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
        case 'reconnect':
          this.engine.reconnect(rest[0]);
          this.result('reconnect', {}, () => [rest[0] ? `Dialing ${rest[0]}.` : 'Dialing every peer not connected.']);
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

  private result(command: string, data: object, text: () => string[]): void {
    if (this.json) this.io.out(JSON.stringify({ event: 'result', command, ...data }));
    else for (const line of text()) this.io.out(line);
  }

  private show<K extends keyof EngineEvents>(name: K, payload: EngineEvents[K]): void {
    switch (name) {
      case 'message': {
        const m = payload as EngineEvents['message'];
        this.io.out(m.kind === 'dm' ? `[${m.from}] ${m.text}` : `[${m.from} -> ${m.to}] ${m.text}`);
        return;
      }
      case 'delivery': {
        const d = payload as EngineEvents['delivery'];
        if (d.kind !== 'dm') return;
        if (d.state === 'delivered') this.io.out(`(delivered to ${d.to})`);
        else if (d.state === 'queued' && d.error) this.io.out(`(not delivered to ${d.to} yet: ${d.error}; it waits in the outbox)`);
        return;
      }
      case 'registration': {
        const r = payload as EngineEvents['registration'];
        if (r.state === 'registered') this.io.err(`Registered at ${r.server} as ${this.engine.peerId}; the server sees you as ${r.ip ?? '?'} (TTL ${r.ttl} s)`);
        else if (r.error && r.state !== 'registering') this.io.err(`Rendezvous ${r.server}: ${r.state}: ${r.error}`);
        return;
      }
      case 'peer': {
        const p = payload as PeerView;
        const before = this.peerStates.get(p.peerId);
        this.peerStates.set(p.peerId, p.state);
        if (before !== p.state && (p.state === 'open' || before === 'open' || p.state === 'failed')) {
          this.io.out(`* ${p.peerId} ${p.state === 'open' ? `connected (${p.direction})` : p.state === 'failed' ? `unreachable: ${p.lastError ?? ''}` : 'disconnected'}`);
        }
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

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(1)} ms`;
}

function describePeer(p: PeerView): string {
  const extra = [p.direction, p.address, p.avgRttMs === undefined ? undefined : `RTT ${ms(p.avgRttMs)}`, p.state === 'failed' ? p.lastError : undefined];
  return `${p.peerId}  ${p.state}  ${extra.filter(Boolean).join('  ')}`;
}
