// One way out, whatever starts it (menu, tray, last window closed, Ctrl+C, SIGTERM): before-quit
// is held until the service has said BYE to its peers and UNREGISTERed, then the quit resumes.
import type { ModuleLogger } from '../engine/log.ts';

export interface QuittingApp {
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  quit(): void;
}

export interface QuitSequence {
  quit(): void;
  /** True from the first before-quit on: windows must close, not hide in the tray. */
  readonly quitting: boolean;
}

/**
 * A stuck socket must not keep the app alive forever; the engine's own worst case (BYE timeout
 * 2 s, then UNREGISTER timeout 5 s) fits well inside.
 */
export const STOP_TIMEOUT_MS = 10_000;

export function installQuitSequence(
  app: QuittingApp,
  stop: () => Promise<void>,
  log: Pick<ModuleLogger, 'warn' | 'error'>,
  timeoutMs = STOP_TIMEOUT_MS,
): QuitSequence {
  let quitting = false;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  app.on('before-quit', (event) => {
    quitting = true;
    if (stopped) return;
    event.preventDefault();
    stopping ??= settleWithin(stop(), timeoutMs, log)
      .catch((error: unknown) => log.error(`Stopping the service failed: ${String(error)}`))
      .then(() => {
        stopped = true;
        app.quit();
      });
  });
  // Closing the last window quits on every platform: a peer left registered with no window
  // would be invisible; staying in the tray is the opt-in way to keep running.
  app.on('window-all-closed', () => app.quit());
  return {
    quit: () => app.quit(),
    get quitting() {
      return quitting;
    },
  };
}

function settleWithin(work: Promise<void>, ms: number, log: Pick<ModuleLogger, 'warn'>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn(`The service did not stop within ${ms} ms; quitting anyway`);
      resolve();
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** `once`: a second Ctrl+C while stopping falls through to Node's default and ends the process. */
export function quitOnSignals(proc: { once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown }, quit: () => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) proc.once(signal, quit);
}
