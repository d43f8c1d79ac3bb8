// The terminal client as a user runs it: a child process driven through stdin. Every run keeps its
// profile (history.sqlite) in a temporary --data-dir, never in the user's own folder.

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMessageStore } from '../../src-main/engine/store/sqlite-store.ts';
import { historyPath } from '../../src-main/service/history-path.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { requestJson, startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { ScriptedPeer, startEngine, stopEngines, waitFor } from '../helpers/peers.ts';
import { startSecureEngine, stopSecureEngines } from '../secure/helpers.ts';

let rdv: TestServer;
let tmp: string;
const peers: ScriptedPeer[] = [];
beforeEach(async () => {
  rdv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'chatp2p-cli-'));
});
afterEach(async () => {
  await stopEngines();
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await rdv.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function scriptedPeer(peerId: string, firstLineOnly = false, ack = true): Promise<ScriptedPeer> {
  const peer = new ScriptedPeer({ peerId, firstLineOnly, ack });
  peers.push(peer);
  await peer.listen();
  await peer.register(rdv.port);
  return peer;
}

/** A profile folder under this test's temporary directory. */
const profile = (name: string) => join(tmp, name);

const peerFlags = (name: string) => ['--name', name, '--namespace', 'CIC', '--port', '0', '--rendezvous', `127.0.0.1:${rdv.port}`, '--listen-host', '127.0.0.1'];
const flags = (name: string) => [...peerFlags(name), '--data-dir', profile(name)];

/** The client's startup line: its history is open and it listens. */
const started = (run: CliRun) => waitFor('the client started', () => /on port \d+\. Type help/.test(run.stderr), 15_000);

// India has no daylight saving time: a time shown there is UTC+05:30 all year.
const ZONE = { env: { TZ: 'Asia/Kolkata' }, offset: '+05:30' };
const LOCAL_TIME = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/;

/** The lines that show a time, with it written as TIME, and the instant each shows (read in ZONE). */
function withTimes(lines: string[]): { line: string; at: number }[] {
  return lines.flatMap((line) => {
    const time = LOCAL_TIME.exec(line)?.[0];
    return time === undefined ? [] : [{ line: line.replace(time, 'TIME'), at: Date.parse(`${time.replace(' ', 'T')}${ZONE.offset}`) }];
  });
}

/** Whether every instant lies within [from, to], at the second the client shows. */
const within = (times: { at: number }[], from: number, to: number) => times.every((t) => t.at >= Math.floor(from / 1000) * 1000 && t.at <= to);

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
    expect(cli.stdout).toEqual(expect.arrayContaining(['* bob@CIC connected (outbound, not encrypted)', '[bob@CIC] oi alice', '(delivered to bob@CIC)']));
    expect(cli.stdout).toContainEqual(expect.stringMatching(/^\(not delivered to nobody@CIC yet: nobody@CIC is not registered on the rendezvous server; it waits in the outbox as [0-9a-f-]{36}\)$/));
    expect(cli.stdout.at(-1)).toBe('(1 direct message waits in the outbox for next time: to nobody@CIC)');
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
    const file = join(tmp, 'config.json');
    writeFileSync(file, JSON.stringify({ name: 'carol', namespace: 'CIC', rendezvous: { host: '127.0.0.1', port: rdv.port, discover_interval: 0.2 }, network: { listen_port: 0, listen_host: '127.0.0.1' }, keepalive: { ping_interval: 0.1 } }));
    const cli = runCli(['--config', file, '--name', 'dave', '--data-dir', profile('dave')]);
    await waitFor('registered', () => cli.stderr.includes('Registered at'));
    await waitFor('connected', () => cli.stdout.includes('* bob@CIC connected (outbound, not encrypted)'));
    // keepalive.ping_interval 0.1 s: a few PINGs later the RTT is known.
    await new Promise((r) => setTimeout(r, 500));
    cli.write('peers\nrtt\n');
    await waitFor('peers and rtt listed', () => cli.stdout.some((l) => /^bob@CIC {2}last \d+\.\d ms {2}average \d+\.\d ms$/.test(l)));
    expect(cli.stdout.some((l) => /^bob@CIC {2}open {2}outbound {2}127\.0\.0\.1:\d+ {2}RTT \d+\.\d ms$/.test(l))).toBe(true);
    cli.end();
    expect(await cli.code).toBe(0);
    expect(cli.stderr).toContain(`Registered at 127.0.0.1:${rdv.port} as dave@CIC`);
  });

  it('says once that the rendezvous server does not answer, and once that it is back', async () => {
    const own = await startTestServer();
    const file = join(tmp, 'config.json');
    writeFileSync(file, JSON.stringify({ name: 'erin', namespace: 'CIC', rendezvous: { host: '127.0.0.1', port: own.port, discover_interval: 0.2 }, network: { listen_port: 0, listen_host: '127.0.0.1' } }));
    const cli = runCli(['--config', file, '--data-dir', profile('erin')]);
    const count = (text: string) => cli.stderr.split(text).length - 1;
    try {
      await waitFor('registered', () => count('Registered at') === 1);
      await own.close();
      // Every DISCOVER fails from now on (one each 0.2 s); the news is printed once.
      await waitFor('the silence noticed', () => count(`Rendezvous 127.0.0.1:${own.port} does not answer`) === 1);
      // More failures follow, unless the server went down mid-request: a connection closed without
      // a reply reads as the rate limit's drop, and the client rightly waits out its window.
      await waitFor('more failed DISCOVERs', () => count('DISCOVER failed') >= 3 || count('closed the connection without a reply') > 0, 20_000);
      expect(count('does not answer')).toBe(1);
      if (count('closed the connection without a reply') > 0) {
        // The client now waits out the rate limit's 60 s window before asking again: too long here.
        cli.end();
        expect(await cli.code).toBe(0);
        return;
      }
      const back = await startTestServer({ port: own.port });
      try {
        await waitFor('registered again', () => count('Registered at') === 2);
      } finally {
        cli.end();
        expect(await cli.code).toBe(0);
        await back.close();
      }
    } finally {
      await own.close().catch(() => undefined);
    }
  });

  it('without a terminal, missing identity flags are a clear error', async () => {
    const cli = runCli(['--rendezvous', `127.0.0.1:${rdv.port}`, '--data-dir', profile('nobody')]);
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
      const cli = runCli([...args, '--data-dir', profile('a')]);
      cli.end();
      expect(await cli.code).toBe(2);
      expect(cli.stderr).toContain(message);
    }
  });

  it('reports a port already in use', async () => {
    const bob = await scriptedPeer('bob@CIC');
    const cli = runCli(['--name', 'alice', '--namespace', 'CIC', '--port', String(bob.port), '--listen-host', '127.0.0.1', '--rendezvous', `127.0.0.1:${rdv.port}`, '--data-dir', profile('alice')]);
    cli.end();
    expect(await cli.code).toBe(1);
    expect(cli.stderr).toContain(`cli: port ${bob.port} is already in use on 127.0.0.1`);
  });

  it('keeps the history across a restart: `history` shows a DM conversation or a channel, oldest first, in local time', async () => {
    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    const from = Date.now();
    const first = runCli(flags('alice'), ZONE.env);
    await waitFor('bob connected', () => first.stdout.some((l) => l.startsWith('* bob@CIC connected')), 15_000);
    bob.engine.sendDirect('alice@CIC', 'oi alice');
    await waitFor('bob\'s DM shown', () => first.stdout.includes('[bob@CIC] oi alice'));
    first.write('msg bob@CIC olá João\npub #CIC bom dia, sala\n');
    first.end();
    expect(await first.code).toBe(0);
    const to = Date.now();
    expect(bob.messages.map((m) => [m.kind, m.text]).sort()).toEqual([['dm', 'olá João'], ['pub', 'bom dia, sala']]);

    const second = runCli(flags('alice'), ZONE.env);
    second.write('history bob@CIC\nhistory #CIC\nhistory bob@CIC 1\nhistory carol@CIC\nhistory bob@CIC 501\nhistory CIC\n');
    second.end();
    expect(await second.code).toBe(0);
    const shown = withTimes(second.stdout);
    expect(shown.map((l) => l.line)).toEqual([
      'TIME  [bob@CIC] oi alice',
      'TIME  [alice@CIC] olá João',
      'TIME  [alice@CIC] bom dia, sala',
      'TIME  [alice@CIC] olá João',
    ]);
    expect(within(shown, from, to)).toBe(true);
    expect(second.stdout).toEqual(expect.arrayContaining(['(older messages not shown)', '(no messages with carol@CIC)']));
    expect(second.stderr).toContain('Error: n must be 1 to 500');
    expect(second.stderr).toContain('Error: usage: history <peer_id|#ns|*> [n]');
  });

  it('`history <peer_id>` lists the DMs that could not prove that peer\'s pinned key apart from its own', async () => {
    mkdirSync(profile('alice'), { recursive: true });
    const store = openMessageStore(join(profile('alice'), 'history.sqlite'));
    store.claim('alice@CIC');
    const dm = (msgId: string, text: string, unverified: boolean) =>
      store.addIncoming({ msgId, kind: 'dm', from: 'bob@CIC', to: 'alice@CIC', text, receivedAt: Date.now(), sentAt: undefined, claimedSrc: undefined, ...(unverified ? { unverified: true as const } : {}) });
    dm('real-1', 'oi, sou o bob', false);
    dm('fake-1', 'manda a senha', true);
    dm('real-2', 'tudo certo?', false);
    store.close();

    const cli = runCli(flags('alice'));
    cli.write('history bob@CIC\nsearch senha\n');
    cli.end();
    expect(await cli.code).toBe(0);
    expect(withTimes(cli.stdout).map((l) => l.line)).toEqual([
      'TIME  [bob@CIC] oi, sou o bob',
      'TIME  [bob@CIC] tudo certo?',
      'TIME  [bob@CIC, unverified] manda a senha',
      'bob@CIC, unverified  TIME  bob@CIC: manda a [senha]',
    ]);
    // The apart ones under a heading of their own, after the peer's.
    const heading = cli.stdout.indexOf("-- unverified, apart from bob@CIC: these came over a connection that could not prove bob@CIC's pinned key --");
    expect(heading).toBe(cli.stdout.findIndex((l) => l.endsWith('tudo certo?')) + 1);
    expect(heading).toBe(cli.stdout.findIndex((l) => l.endsWith('manda a senha')) - 1);
  });

  it('search finds words without their accents and by their first letters, newest first, the matches in [ ]; --json gives the hits as data', async () => {
    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    const cli = runCli(flags('alice'));
    await waitFor('bob connected', () => cli.stdout.some((l) => l.startsWith('* bob@CIC connected')), 15_000);
    bob.engine.sendDirect('alice@CIC', 'Falei com o João ontem');
    bob.engine.sendDirect('alice@CIC', 'bom dia');
    await waitFor('both shown', () => cli.stdout.includes('[bob@CIC] bom dia'));
    cli.write('msg bob@CIC JOÃO chegou?\nsearch joao\nsearch ONT\nsearch xyz\n');
    cli.end();
    expect(await cli.code).toBe(0);
    expect(withTimes(cli.stdout).map((l) => l.line)).toEqual([
      'bob@CIC  TIME  alice@CIC: [JOÃO] chegou?',
      'bob@CIC  TIME  bob@CIC: Falei com o [João] ontem',
      'bob@CIC  TIME  bob@CIC: Falei com o João [ontem]',
    ]);
    expect(cli.stdout).toContain('(no messages match "xyz")');

    const json = runCli([...flags('alice'), '--json']);
    json.write('search joao\n');
    json.end();
    expect(await json.code).toBe(0);
    const result = json.stdout.map((l) => JSON.parse(l) as { event: string }).find((e) => e.event === 'result');
    expect(result).toMatchObject({
      command: 'search',
      text: 'joao',
      hits: [
        {
          conversation: 'dm:bob@CIC',
          message: { direction: 'out', from: 'alice@CIC', to: 'bob@CIC', text: 'JOÃO chegou?', state: 'delivered' },
          parts: [{ text: 'JOÃO', match: true }, { text: ' chegou?', match: false }],
        },
        {
          conversation: 'dm:bob@CIC',
          message: { direction: 'in', from: 'bob@CIC', text: 'Falei com o João ontem' },
          parts: [{ text: 'Falei com o ', match: false }, { text: 'João', match: true }, { text: ' ontem', match: false }],
        },
      ],
    });
  });

  it('a DM to a peer that is away waits in the outbox through a restart and is delivered once the peer is back; cancel takes one back', async () => {
    const first = runCli(flags('alice'));
    first.write('msg bob@CIC hello later\nmsg bob@CIC never mind\n');
    const waiting = () => [...new Set(first.stdout.flatMap((l) => /^\(not delivered to bob@CIC yet: .*; it waits in the outbox as (\S+)\)$/.exec(l)?.[1] ?? []))];
    await waitFor('both wait in the outbox', () => waiting().length === 2, 15_000);
    const [later, never] = waiting();
    first.write(`cancel ${never}\nhistory bob@CIC\n`);
    first.end();
    expect(await first.code).toBe(0);
    expect(first.stdout).toContain('(cancelled the message to bob@CIC)');
    expect(withTimes(first.stdout).map((l) => l.line)).toEqual([
      `TIME  [alice@CIC] hello later  (queued: bob@CIC is not registered on the rendezvous server; msg_id ${later})`,
      'TIME  [alice@CIC] never mind  (cancelled)',
    ]);
    expect(first.stdout.at(-1)).toBe('(1 direct message waits in the outbox for next time: to bob@CIC)');

    const bob = await startEngine(rdv.port, 'bob', 'CIC');
    const second = runCli(flags('alice'));
    await waitFor('delivered after the restart', () => second.stdout.includes('(delivered to bob@CIC)'), 15_000);
    second.write('history bob@CIC\n');
    second.end();
    expect(await second.code).toBe(0);
    expect(bob.messages.map((m) => [m.from, m.msgId, m.text])).toEqual([['alice@CIC', later, 'hello later']]);
    expect(withTimes(second.stdout).map((l) => l.line)).toEqual(['TIME  [alice@CIC] hello later', 'TIME  [alice@CIC] never mind  (cancelled)']);
    expect(second.stdout.filter((l) => l.includes('in the outbox for next time'))).toEqual([]);
  });

  it('refuses a second client on the same profile folder with a clear message; the first goes on', async () => {
    const first = runCli(flags('alice'));
    await started(first);
    const second = runCli(flags('alice'));
    second.end();
    expect(await second.code).toBe(1);
    expect(second.stderr).toContain(`cli: ${join(profile('alice'), 'history.sqlite')} is in use by another ChatP2P process`);
    // Refused before going online: only the first one registered.
    expect(rdv.logs.filter((l) => l.includes('REGISTER alice@CIC'))).toHaveLength(1);
    first.write('pub * still here\nhistory *\n');
    first.end();
    expect(await first.code).toBe(0);
    expect(withTimes(first.stdout).map((l) => l.line)).toEqual(['TIME  [alice@CIC] still here  (nobody connected received it)']);
  });

  it('refuses a history file that is not ChatP2P\'s, or is damaged, and leaves it byte for byte', async () => {
    const other = join(tmp, 'other.sqlite');
    const db = new DatabaseSync(other);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('not a chat')");
    db.close();
    const cases: [string, Buffer, string][] = [
      ['bella', readFileSync(other), 'is not a ChatP2P message history file; refusing to modify it'],
      ['carla', Buffer.from('SQLite format 3\0 and then nothing a database holds'), 'file is not a database'],
    ];
    for (const [name, bytes, problem] of cases) {
      mkdirSync(profile(name));
      const file = join(profile(name), 'history.sqlite');
      writeFileSync(file, bytes);
      const cli = runCli(flags(name));
      cli.end();
      expect(await cli.code).toBe(1);
      const error = cli.stderr.split('\n').find((l) => l.startsWith('cli: '));
      expect(error).toContain(file);
      expect(error).toContain(problem);
      expect(readFileSync(file).equals(bytes)).toBe(true);
      expect(readdirSync(profile(name))).toEqual(['history.sqlite']);
    }
    // Refused before going online: the server never heard from either.
    expect(rdv.logs.filter((l) => l.includes('REGISTER'))).toEqual([]);
  });

  it('Ctrl+C while leaving waits for an ACK leaves at once, cleanly: BYE, UNREGISTER, and the DM stays in the outbox', async () => {
    const mute = await scriptedPeer('mute@CIC', false, false);
    const cli = runCli(flags('alice'));
    cli.write('msg mute@CIC are you there?\n');
    await waitFor('SEND written', () => mute.of('SEND').length === 1, 15_000);
    cli.end();
    await waitFor('waiting for the ACK', () => cli.stderr.includes('Waiting for the messages on their way to be acknowledged'));
    cli.kill('SIGINT');
    expect(await cli.code).toBe(130);
    // It left without sending the SEND again (a retry comes after the 5 s ACK timeout).
    expect(mute.of('SEND')).toHaveLength(1);
    expect(mute.of('BYE')).toHaveLength(1);
    expect(rdv.logs.filter((l) => l.includes('UNREGISTER alice@CIC'))).toHaveLength(1);
    expect(cli.stdout.at(-1)).toBe('(1 direct message waits in the outbox for next time: to mute@CIC)');
  });

  it.runIf(process.platform === 'linux')('without --data-dir keeps the history in the desktop app\'s folder for the same peer_id', async () => {
    const home = join(tmp, 'config-home');
    const cli = runCli(peerFlags('alice'), { XDG_CONFIG_HOME: home });
    cli.write('pub * hello from the terminal\n');
    cli.end();
    expect(await cli.code).toBe(0);
    // Electron's userData for ChatP2P on Linux, and the file the desktop app opens there.
    const store = openMessageStore(historyPath(join(home, 'ChatP2P'), 'alice@CIC'));
    try {
      expect(store.page('*', { limit: 10 }).messages.map((m) => m.text)).toEqual(['hello from the terminal']);
    } finally {
      store.close();
    }
  });

  it('seals its connection with a ChatP2P peer and shows keys and safety numbers: keys, verify', async () => {
    const bob = await startSecureEngine(rdv.port, 'bob');
    try {
      const cli = runCli(flags('alice'));
      await waitFor('a sealed connection', () => cli.stdout.some((l) => /^\* bob@CIC connected \((in|out)bound, sealed\)$/.test(l)), 15_000);
      cli.write('keys bob@CIC\nverify bob@CIC\nverify nobody@CIC\nquit\n');
      expect(await cli.code).toBe(0);
      const [ofAlice] = bob.engine.keys('alice@CIC');
      expect(cli.stdout).toContain(`  safety number ${ofAlice!.safetyNumber}`);
      expect(cli.stdout).toContain(`  key ${bob.engine.identityFingerprint}`);
      expect(cli.stdout).toContain(`Your identity key: ${ofAlice!.fingerprint}`);
      expect(cli.stdout).toContain('Marked the safety number of bob@CIC as verified.');
      expect(cli.stderr).toContain('Error: no key of nobody@CIC is pinned');
      // The key stays the profile's: a 0600 file beside its history.
      expect(statSync(join(profile('alice'), 'identity.key')).mode & 0o777).toBe(0o600);
    } finally {
      await stopSecureEngines();
    }
  });
});
