// `npm run cli -- ...`: the terminal client. Commands from stdin, one per line; end of input
// (or `quit`) waits until no message is on its way (DMs whose peer is away stay in the outbox for
// the next run) and no file transfer is under way, then leaves (BYE, UNREGISTER). The profile's history file is held for the whole run.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Engine } from '../engine/engine.ts';
import { identityKeyPath, loadIdentityKey } from '../engine/secure/identity.ts';
import type { KeyPair } from '../engine/secure/noise.ts';
import { openMessageStore, type SqliteMessageStore } from '../engine/store/sqlite-store.ts';
import { USAGE, UsageError, checkAnswer, historyFile, parseCliArgs, type CliOptions } from './options.ts';
import { Shell } from './shell.ts';

const PROMPTS: Record<CliOptions['missing'][number], string> = {
  namespace: 'Namespace: ',
  name: 'Name: ',
  port: 'Port: ',
  ttl: `TTL in seconds [7200]: `,
};

async function askMissing(options: CliOptions): Promise<void> {
  if (options.missing.length === 0) return;
  if (!process.stdin.isTTY) {
    throw new UsageError(`missing ${options.missing.filter((f) => f !== 'ttl').map((f) => `--${f}`).join(', ')} (and no terminal to ask on)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const field of options.missing) {
      for (;;) {
        const answer = (await rl.question(PROMPTS[field])).trim() || (field === 'ttl' ? '7200' : '');
        const problem = checkAnswer(field, answer);
        if (problem) {
          process.stderr.write(`  ${problem}\n`);
          continue;
        }
        if (field === 'name' || field === 'namespace') options.config[field] = answer;
        else options.config[field] = Number(answer);
        break;
      }
    }
  } finally {
    rl.close();
  }
}

/** Opens (creating its folder) the profile's history; a busy, foreign or damaged file is refused. */
function openHistory(options: CliOptions): SqliteMessageStore {
  const path = historyFile(options, `${options.config.name}@${options.config.namespace}`);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the profile folder: ${(err as Error).message}`);
  }
  return openMessageStore(path, (err) => process.stderr.write(`cli: history ${path}: ${err.message}\n`));
}

async function main(): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
    if (options.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    await askMissing(options);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`cli: ${err.message}\n\n${USAGE}`);
    return 2;
  }

  let store: SqliteMessageStore;
  try {
    store = openHistory(options);
  } catch (err) {
    process.stderr.write(`cli: ${(err as Error).message}\n`);
    return 1;
  }
  let identity: KeyPair;
  try {
    identity = loadIdentityKey(identityKeyPath(historyFile(options, `${options.config.name}@${options.config.namespace}`))).key;
  } catch (err) {
    process.stderr.write(`cli: ${(err as Error).message}\n`);
    store.close();
    return 1;
  }
  const engine = new Engine({ config: options.config, store, identity });
  const shell = new Shell(engine, store, { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') }, options.json, process.env.INIT_CWD ?? process.cwd());
  try {
    await engine.start();
  } catch (err) {
    process.stderr.write(`cli: ${(err as Error).message}\n`);
    await engine.stop();
    store.close();
    return 1;
  }
  if (!options.json) process.stderr.write(`${engine.peerId} on port ${engine.status().listen.port}. Type help for commands.\n`);

  // A signal while end of input waits for deliveries stops the wait: leave now. So does `quit`
  // typed again while leaving waits for the file transfers under way.
  let interrupt = (): void => undefined;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  let leaving: Promise<void> | undefined;
  const leave = (waitForMessages: boolean): Promise<void> =>
    (leaving ??= (async () => {
      if (waitForMessages) {
        let idle = false;
        const done = engine.whenIdle().then(() => (idle = true));
        await new Promise((resolve) => setImmediate(resolve));
        if (!idle) shell.showWaiting();
        await Promise.race([done, interrupted]);
        await Promise.race([shell.whenTransfersEnd(), interrupted]);
      }
      await engine.stop();
      shell.showOutbox();
      shell.showUnfinishedTransfers();
      store.close();
    })());
  let signalled = false;
  const onSignal = (code: number): void => {
    // A second Ctrl+C does not wait for BYE_OK: the store keeps what was committed.
    if (signalled) process.exit(code);
    signalled = true;
    interrupt();
    void leave(false).then(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal(130));
  process.on('SIGTERM', () => onSignal(143));

  const rl = createInterface({ input: process.stdin, terminal: false });
  // Commands run one after another, in input order, however fast lines arrive; the input stays
  // open while leaving, for a second `quit`.
  let quitting = false;
  let queue = Promise.resolve();
  await new Promise<void>((resolve) => {
    rl.on('line', (line) => {
      queue = queue.then(async () => {
        if (quitting) {
          if (/^\s*(quit|exit)\s*$/i.test(line)) interrupt();
          else if (line.trim() !== '') await shell.run(line);
          return;
        }
        if (leaving) return;
        if ((await shell.run(line)) === 'quit') {
          quitting = true;
          resolve();
        }
      });
    });
    rl.on('close', () => void queue.then(() => resolve()));
  });
  await leave(true);
  rl.close();
  return 0;
}

process.exitCode = await main();
