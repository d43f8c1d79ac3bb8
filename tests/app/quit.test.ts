// Every way out stops the service first (BYE, UNREGISTER), exactly once, and then really quits.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installQuitSequence, quitOnSignals } from '../../src-main/app/quit.ts';
import { FakeLog, fakeEvent } from './fakes.ts';

/** Electron's quit: before-quit listeners may cancel it; otherwise the app exits. */
class FakeApp extends EventEmitter {
  exits = 0;
  quit() {
    const event = fakeEvent();
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.exits++;
  }
}

function setup(stop: () => Promise<void> = async () => undefined, timeoutMs?: number) {
  const app = new FakeApp();
  const log = new FakeLog();
  let stops = 0;
  const sequence = installQuitSequence(app, () => (stops++, stop()), log, timeoutMs);
  return { app, log, sequence, stops: () => stops };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ([resolve, reject] = [res, rej]));
  return { promise, resolve, reject };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('installQuitSequence', () => {
  it('holds the quit until the service has stopped, then quits', async () => {
    const stop = deferred();
    const { app, sequence, stops } = setup(() => stop.promise);
    sequence.quit();
    await settle();
    expect([stops(), app.exits, sequence.quitting]).toEqual([1, 0, true]);
    stop.resolve();
    await settle();
    expect(app.exits).toBe(1);
  });

  it('stops the service once when before-quit fires again while it stops', async () => {
    const stop = deferred();
    const { app, sequence, stops } = setup(() => stop.promise);
    sequence.quit();
    app.quit();
    sequence.quit();
    stop.resolve();
    await settle();
    expect([stops(), app.exits]).toEqual([1, 1]);
  });

  it('quits when the last window closes', async () => {
    const { app, stops } = setup();
    app.emit('window-all-closed');
    await settle();
    expect([stops(), app.exits]).toEqual([1, 1]);
  });

  it('still quits when stopping fails, and logs why', async () => {
    const { app, log, sequence } = setup(() => Promise.reject(new Error('socket gone')));
    sequence.quit();
    await settle();
    expect(app.exits).toBe(1);
    expect(log.lines).toEqual(['Stopping the service failed: Error: socket gone']);
  });

  it('quits anyway when the service never finishes stopping', async () => {
    const { app, log, sequence } = setup(() => new Promise<void>(() => undefined), 20);
    sequence.quit();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(app.exits).toBe(1);
    expect(log.lines).toEqual(['The service did not stop within 20 ms; quitting anyway']);
  });

  it('is not quitting before anyone asked', () => {
    expect(setup().sequence.quitting).toBe(false);
  });
});

describe('quitOnSignals', () => {
  it('turns SIGINT and SIGTERM into the quit sequence', async () => {
    for (const signal of ['SIGINT', 'SIGTERM']) {
      const { app, sequence, stops } = setup();
      const proc = new EventEmitter();
      quitOnSignals(proc, sequence.quit);
      proc.emit(signal);
      await settle();
      expect([stops(), app.exits]).toEqual([1, 1]);
      expect(proc.listenerCount(signal)).toBe(0);
    }
  });
});
