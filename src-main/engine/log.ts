// Logging as DESIGN.md asks: `<ISO time> <LEVEL> [Module] message`, level switchable at run time.
// The sink is injected so the engine never decides where bytes go (stderr, a file, the UI).

import { LOG_LEVELS, type LogLevel } from './api.ts';

export { LOG_LEVELS, type LogLevel };

export interface LogRecord {
  time: Date;
  level: LogLevel;
  module: string;
  message: string;
}

export type LogSink = (record: LogRecord) => void;

export function formatLogRecord(r: LogRecord): string {
  return `${r.time.toISOString()} ${r.level.padEnd(5)} [${r.module}] ${r.message}`;
}

export function parseLogLevel(text: string): LogLevel | undefined {
  const upper = text.toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(upper) ? (upper as LogLevel) : undefined;
}

/** Writes formatted lines to a stream (stderr by default, so stdout stays for program output). */
export function streamSink(stream: NodeJS.WritableStream = process.stderr): LogSink {
  return (r) => {
    stream.write(formatLogRecord(r) + '\n');
  };
}

export class Logger {
  private threshold: number;
  private readonly sink: LogSink;
  private readonly now: () => number;

  constructor(options: { level?: LogLevel; sink: LogSink; now?: () => number }) {
    this.threshold = LOG_LEVELS.indexOf(options.level ?? 'INFO');
    this.sink = options.sink;
    this.now = options.now ?? Date.now;
  }

  get level(): LogLevel {
    return LOG_LEVELS[this.threshold]!;
  }

  setLevel(level: LogLevel): void {
    this.threshold = LOG_LEVELS.indexOf(level);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.threshold;
  }

  /** A logger bound to one `[Module]` name, sharing this logger's level and sink. */
  module(name: string): ModuleLogger {
    const log = (level: LogLevel) => (message: string | (() => string)) => {
      if (this.enabled(level)) this.sink({ time: new Date(this.now()), level, module: name, message: typeof message === 'function' ? message() : message });
    };
    return { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
  }
}

export interface ModuleLogger {
  /** A function is called only when DEBUG is on: per-message lines cost nothing otherwise. */
  debug(message: string | (() => string)): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
