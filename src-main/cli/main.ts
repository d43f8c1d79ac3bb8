// `npm run cli -- ...`: the terminal client. Commands from stdin, one per line; end of input
// waits for every message to be delivered or failed, then leaves (BYE, UNREGISTER).

import { createInterface } from 'node:readline/promises';
import { Engine } from '../engine/engine.ts';
import { USAGE, UsageError, checkAnswer, parseCliArgs, type CliOptions } from './options.ts';
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

  const engine = new Engine({ config: options.config });
  const shell = new Shell(engine, { out: (l) => process.stdout.write(l + '\n'), err: (l) => process.stderr.write(l + '\n') }, options.json);
  try {
    await engine.start();
  } catch (err) {
    process.stderr.write(`cli: ${(err as Error).message}\n`);
    await engine.stop();
    return 1;
  }
  if (!options.json) process.stderr.write(`${engine.peerId} on port ${engine.status().listen.port}. Type help for commands.\n`);

  let leaving = false;
  const leave = async (waitForMessages: boolean): Promise<void> => {
    if (leaving) return;
    leaving = true;
    if (waitForMessages) await engine.whenIdle();
    await engine.stop();
  };
  process.once('SIGINT', () => {
    process.once('SIGINT', () => process.exit(130));
    void leave(false).then(() => process.exit(130));
  });
  process.once('SIGTERM', () => void leave(false).then(() => process.exit(143)));

  const rl = createInterface({ input: process.stdin, terminal: false });
  // Commands run one after another, in input order, however fast lines arrive.
  for await (const line of rl) {
    if (leaving) break;
    if ((await shell.run(line)) === 'quit') break;
  }
  rl.close();
  await leave(true);
  return 0;
}

process.exitCode = await main();
