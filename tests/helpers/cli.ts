// The terminal client as a user runs it: a child process driven through stdin, its stdout split
// into lines as they come and its stderr kept whole.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '../../src-main/cli/main.ts');

export interface CliRun {
  stdout: string[];
  stderr: string;
  code: Promise<number | null>;
  write(text: string): void;
  end(): void;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts the client; `args` must hold --data-dir unless `env` points the user folder somewhere temporary. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  if (!args.includes('--data-dir') && !env.XDG_CONFIG_HOME) throw new Error('give the client a temporary --data-dir');
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const run: CliRun = {
    stdout: [],
    stderr: '',
    code: new Promise((resolve) => child.on('close', resolve)),
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    kill: (signal) => child.kill(signal),
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
