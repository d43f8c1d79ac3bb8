// The terminal client as a user runs it: a child process driven through stdin.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestJson, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { ScriptedPeer, waitFor } from '../helpers/peers.ts';

const CLI = join(import.meta.dirname, '../../src-main/cli/main.ts');

interface Run {
  stdout: string[];
  stderr: string;
  code: Promise<number | null>;
  write(text: string): void;
  end(): void;
}

function runCli(args: string[]): Run {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'chatp2p-cli-')) },
  });
  const run: Run = {
    stdout: [],
    stderr: '',
    code: new Promise((resolve) => child.on('close', resolve)),
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
  };
  let partial = '';
  child.stdout.on('data', (c: Buffer) => {
    const lines = (partial + c.toString('utf8')).split('\n');
    partial = lines.pop()!;
    run.stdout.push(...lines);
  });
  child.stderr.on('data', (c: Buffer) => (run.stderr += c.toString('utf8')));
  return run;
}

let rdv: TestServer;
const peers: ScriptedPeer[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await rdv.close();
});

async function scriptedPeer(peerId: string, firstLineOnly = false): Promise<ScriptedPeer> {
  const peer = new ScriptedPeer({ peerId, firstLineOnly });
  peers.push(peer);
  await peer.listen();
  await peer.register(rdv.port);
  return peer;
}

const flags = (name: string) => ['--name', name, '--namespace', 'CIC', '--port', '0', '--rendezvous', `127.0.0.1:${rdv.port}`, '--listen-host', '127.0.0.1'];

describe('the terminal client', () => {
  it('delivers 500 piped messages, in order, to a peer that reads only the first line of each read; then leaves', async () => {
    const legacy = await scriptedPeer('legacy@CIC', true);
    const cli = runCli(flags('alice'));
    cli.write(Array.from({ length: 500 }, (_, i) => `msg legacy@CIC line ${i}\n`).join(''));
    cli.end();
    expect(await cli.code).toBe(0);
    expect(legacy.of('SEND').map((f) => f.payload)).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`));
    expect(cli.stdout.filter((l) => l === '(delivered to legacy@CIC)')).toHaveLength(500);
    // Leaving: BYE to the peer, then UNREGISTER (the server no longer lists alice).
    expect(legacy.of('BYE')).toEqual([expect.objectContaining({ src: 'alice@CIC', dst: 'legacy@CIC' })]);
    const left = await requestJson(rdv.port, { type: 'DISCOVER' });
    expect((left.peers as { name: string }[]).map((p) => p.name)).toEqual(['legacy']);
  });

  it('shows DMs and PUBs as [sender] and [sender -> scope], and the fate of each msg', async () => {
    const bob = await scriptedPeer('bob@CIC');
    const cli = runCli(flags('alice'));
    await waitFor('alice dialed bob', () => bob.sockets.size === 1 && bob.of('HELLO').length === 1);
    const s = [...bob.sockets][0]!;
    bob.write(s, { type: 'SEND', msg_id: 'm1', src: 'bob@CIC', dst: 'alice@CIC', payload: 'oi alice', require_ack: true, ttl: 1 });
    bob.write(s, { type: 'PUB', msg_id: 'm2', src: 'bob@CIC', dst: '#CIC', payload: 'oi sala', require_ack: false, ttl: 1 });
    await waitFor('both shown', () => cli.stdout.includes('[bob@CIC -> #CIC] oi sala'));
    cli.write('/msg bob@CIC   tudo bem?  sim\nmsg nobody@CIC hello\nfrobnicate\nquit\n');
    expect(await cli.code).toBe(0);
    expect(cli.stdout).toEqual(
      expect.arrayContaining(['* bob@CIC connected (outbound)', '[bob@CIC] oi alice', '(delivered to bob@CIC)', '(not delivered to nobody@CIC yet: nobody@CIC is not registered on the rendezvous server; it waits in the outbox)']),
    );
    expect(bob.of('SEND').map((f) => f.payload)).toEqual(['tudo bem?  sim']);
    expect(cli.stderr).toContain('Error: unknown command "frobnicate"; type help');
  });

  it('with --json writes only JSON objects to stdout: events and command results', async () => {
    await scriptedPeer('bob@CIC');
    const cli = runCli([...flags('alice'), '--json']);
    await waitFor('connected', () => cli.stdout.some((l) => l.includes('"event":"peer"') && l.includes('"state":"open"')));
    cli.write('status\nmsg bob@CIC oi\nlog WARN\nbad\n');
    cli.end();
    expect(await cli.code).toBe(0);
    const events = cli.stdout.map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
    const kinds = new Set(events.map((e) => e.event));
    expect([...kinds].sort()).toEqual(['delivery', 'error', 'log', 'peer', 'registration', 'result']);
    expect(events.find((e) => e.event === 'result')).toMatchObject({ command: 'status', status: { peerId: 'alice@CIC', registration: { state: 'registered', ip: '127.0.0.1' } } });
    expect(events.filter((e) => e.event === 'delivery').map((e) => e.state)).toEqual(['queued', 'sent', 'delivered']);
    expect(events.find((e) => e.event === 'error')).toMatchObject({ message: 'unknown command "bad"; type help' });
  });

  it('reads a config file in the Python clients\' layout; flags override it', async () => {
    await scriptedPeer('bob@CIC');
    const dir = mkdtempSync(join(tmpdir(), 'chatp2p-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ name: 'carol', namespace: 'CIC', rendezvous: { host: '127.0.0.1', port: rdv.port, discover_interval: 0.2 }, network: { listen_port: 0, listen_host: '127.0.0.1' }, keepalive: { ping_interval: 0.1 } }));
    const cli = runCli(['--config', file, '--name', 'dave']);
    await waitFor('registered', () => cli.stderr.includes('Registered at'));
    await waitFor('connected', () => cli.stdout.includes('* bob@CIC connected (outbound)'));
    // keepalive.ping_interval 0.1 s: a few PINGs later the RTT is known.
    await new Promise((r) => setTimeout(r, 500));
    cli.write('peers\nrtt\n');
    await waitFor('peers and rtt listed', () => cli.stdout.some((l) => /^bob@CIC {2}last \d+\.\d ms {2}average \d+\.\d ms$/.test(l)));
    expect(cli.stdout.some((l) => /^bob@CIC {2}open {2}outbound {2}127\.0\.0\.1:\d+ {2}RTT \d+\.\d ms$/.test(l))).toBe(true);
    cli.end();
    expect(await cli.code).toBe(0);
    expect(cli.stderr).toContain(`Registered at 127.0.0.1:${rdv.port} as dave@CIC`);
  });

  it('without a terminal, missing identity flags are a clear error', async () => {
    const cli = runCli(['--rendezvous', `127.0.0.1:${rdv.port}`]);
    cli.end();
    expect(await cli.code).toBe(2);
    expect(cli.stderr).toContain('cli: missing --namespace, --name, --port (and no terminal to ask on)');
  });

  it('rejects bad flag values before starting', async () => {
    for (const [args, message] of [
      [['--name', 'a b', '--namespace', 'CIC', '--port', '1'], "name must not contain spaces, '@' or control characters"],
      [['--name', 'a', '--namespace', 'CIC', '--port', '70000'], '--port: port must be an integer from 0 to 65535'],
      [['--name', 'a', '--namespace', 'CIC', '--port', '1', '--rendezvous', 'nohost'], '--rendezvous must be HOST:PORT'],
      [['--name', 'a', '--namespace', 'CIC', '--port', '1', '--ttl', '0'], '--ttl must be 1 to 86400 seconds'],
    ] as const) {
      const cli = runCli([...args]);
      cli.end();
      expect(await cli.code).toBe(2);
      expect(cli.stderr).toContain(message);
    }
  });

  it('reports a port already in use', async () => {
    const bob = await scriptedPeer('bob@CIC');
    const cli = runCli(['--name', 'alice', '--namespace', 'CIC', '--port', String(bob.port), '--listen-host', '127.0.0.1', '--rendezvous', `127.0.0.1:${rdv.port}`]);
    cli.end();
    expect(await cli.code).toBe(1);
    expect(cli.stderr).toContain(`cli: port ${bob.port} is already in use on 127.0.0.1`);
  });
});
