// The host's recent log lines, then every 'log' event; newest last, capped.

import { useEffect, useState } from 'react';
import type { ChatApi, LogEvent } from '../../src-shared/chat-api.ts';

const MAX_LINES = 500;

export function useLogs(chat: ChatApi, epoch: number): LogEvent[] {
  const [logs, setLogs] = useState<LogEvent[]>([]);
  useEffect(() => {
    let alive = true;
    const off = chat.on('log', (line) => setLogs((l) => [...l.slice(-(MAX_LINES - 1)), line]));
    chat.logs().then(
      (lines) => alive && setLogs(lines.slice(-MAX_LINES)),
      () => undefined,
    );
    return () => {
      alive = false;
      off();
    };
  }, [chat, epoch]);
  return logs;
}
