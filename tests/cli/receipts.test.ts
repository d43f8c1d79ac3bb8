// The terminal client with a ChatP2P peer (chatp2p-receipts): "(read by …)" when its DM was read,
// a `delivery` event with state `read` under --json, "(… is typing…)", a receipt for each DM it
// prints, and `receipts off`, after which it sends none and shows none.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/rendezvous.ts';
import { startEngine, stopEngines, waitFor, type TestEngine } from '../helpers/peers.ts';

let rdv: TestServer;
let tmp: string;
beforeEach(async () => {
  rdv = await startTestServer();
  tmp = mkdtempSync(join(tmpdir(), 'chatp2p-cli-receipts-'));
});
afterEach(async () => {
  await stopEngines();
  await rdv.close();
  rmSync(tmp, { recursive: true, force: true });
});

const flags = (...extra: string[]) => ['--name', 'alice', '--namespace', 'CIC', '--port', '0', '--rendezvous', `127.0.0.1:${rdv.port}`, '--listen-host', '127.0.0.1', '--data-dir', join(tmp, 'alice'), ...extra];

async function withBob(): Promise<TestEngine> {
  const bob = await startEngine(rdv.port, 'bob', 'CIC');
  await waitFor('connected', () => bob.peer('alice@CIC')?.state === 'open', 15_000);
  return bob;
}

const bobsState = (bob: TestEngine, text: string) => {
  const msgId = bob.deliveries.find((d) => d.text === text)?.msgId;
  return bob.deliveries.filter((d) => d.msgId === msgId).at(-1)?.state;
};

describe('the terminal client and read receipts', () => {
  it('prints (read by …) and (… is typing…), reads what it prints, and stops both ways with receipts off', async () => {
    const cli = runCli(flags());
    const bob = await withBob();
    cli.write('msg bob@CIC leu?\n');
    await waitFor('bob has it', () => bob.messages.length === 1);
    bob.engine.typing('alice@CIC');
    bob.engine.markRead('alice@CIC', [bob.messages[0]!.msgId]);
    await waitFor('read by', () => cli.stdout.includes('(read by bob@CIC)'));
    expect(cli.stdout).toContain('(bob@CIC is typing…)');

    bob.engine.sendDirect('alice@CIC', 'li sim');
    await waitFor('printed', () => cli.stdout.includes('[bob@CIC] li sim'));
    await waitFor('bob sees it read', () => bobsState(bob, 'li sim') === 'read');

    cli.write('receipts off\n');
    await waitFor('switched', () => cli.stdout.includes('Read receipts off: you send none and see none.'));
    bob.engine.sendDirect('alice@CIC', 'e esta?');
    await waitFor('printed', () => cli.stdout.includes('[bob@CIC] e esta?'));
    cli.write('msg bob@CIC sem recibo\n');
    await waitFor('bob has it', () => bob.messages.length === 2);
    expect(bobsState(bob, 'e esta?')).toBe('delivered');
    bob.engine.markRead('alice@CIC', [bob.messages[1]!.msgId]);
    bob.engine.sendDirect('alice@CIC', 'depois');
    await waitFor('printed', () => cli.stdout.includes('[bob@CIC] depois'));
    expect(cli.stdout.filter((l) => l === '(read by bob@CIC)')).toHaveLength(1);
    cli.write('receipts maybe\nquit\n');
    expect(await cli.code).toBe(0);
    expect(cli.stderr).toContain('Error: usage: receipts on|off');
  });

  it('with --json: a delivery event with state read', async () => {
    const cli = runCli(flags('--json'));
    const bob = await withBob();
    cli.write('msg bob@CIC oi\n');
    await waitFor('bob has it', () => bob.messages.length === 1);
    bob.engine.markRead('alice@CIC', [bob.messages[0]!.msgId]);
    const events = () => cli.stdout.map((l) => JSON.parse(l) as { event: string; state?: string; to?: string });
    await waitFor('read event', () => events().some((e) => e.event === 'delivery' && e.state === 'read'));
    expect(events().filter((e) => e.event === 'delivery').map((e) => e.state)).toEqual(['queued', 'sent', 'delivered', 'read']);
    cli.end();
    expect(await cli.code).toBe(0);
  });
});
