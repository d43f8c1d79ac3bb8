// The lint rule that keeps src-main/engine pure Node must actually fire.
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: join(import.meta.dirname, '../..') });

async function boundaryErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'chatp2p/engine-boundary').map((m) => m.message);
}

describe('chatp2p/engine-boundary', () => {
  it('rejects electron in the engine, however it is imported', async () => {
    for (const code of [
      "import { app } from 'electron';",
      "import { ipcRenderer } from 'electron/renderer';",
      "export { app } from 'electron';",
      "const e = await import('electron'); export default e;",
      "const e = require('electron'); export default e;",
    ]) {
      expect(await boundaryErrors(code, 'src-main/engine/peers/table.ts')).toEqual([
        expect.stringMatching(/must not import 'electron.*the engine is pure Node/),
      ]);
    }
  });

  it('rejects code from the app, cli and web hosts', async () => {
    expect(await boundaryErrors("import { win } from '../app/window.ts';", 'src-main/engine/engine.ts')).toEqual([
      expect.stringContaining("must not import '../app/window.ts' from src-main/app"),
    ]);
    expect(await boundaryErrors("export * from '../../cli/main.ts';", 'src-main/engine/wire/frame.ts')).toHaveLength(1);
    expect(await boundaryErrors("await import('../web/host.ts');", 'src-main/engine/engine.ts')).toHaveLength(1);
  });

  it('allows the engine its own modules and Node, and the hosts their Electron', async () => {
    expect(await boundaryErrors("import { Logger } from './log.ts'; import net from 'node:net'; export { Logger, net };", 'src-main/engine/engine.ts')).toEqual([]);
    expect(await boundaryErrors("import { app } from 'electron'; export { app };", 'src-main/app/main.ts')).toEqual([]);
    expect(await boundaryErrors("import { app } from './application.ts'; export { app };", 'src-main/engine/app.ts')).toEqual([]);
  });
});

describe('chatp2p/engine-boundary outside the engine', () => {
  it('keeps Electron inside src-main/app and src-preload', async () => {
    for (const file of ['src-main/service/chat-service.ts', 'src-main/web/host.ts', 'src-main/cli/main.ts']) {
      expect(await boundaryErrors("import { app } from 'electron'; export { app };", file), file).toEqual([
        expect.stringContaining('only src-main/app and src-preload'),
      ]);
    }
    expect(await boundaryErrors("import { contextBridge } from 'electron'; export { contextBridge };", 'src-preload/preload.ts')).toEqual([]);
    expect(await boundaryErrors("import { ChatService } from '../service/chat-service.ts'; export { ChatService };", 'src-main/app/main.ts')).toEqual([]);
  });

  it('lets the renderer import only its own files, the shared contract and browser packages', async () => {
    const renderer = 'src-renderer/components/Chat.tsx';
    expect(await boundaryErrors("import { readFileSync } from 'node:fs'; export { readFileSync };", renderer)).toEqual([expect.stringContaining('only talks to window.chat')]);
    expect(await boundaryErrors("import path from 'path'; export { path };", renderer)).toHaveLength(1);
    expect(await boundaryErrors("import { ipcRenderer } from 'electron'; export { ipcRenderer };", renderer)).toHaveLength(1);
    expect(await boundaryErrors("import { Engine } from '../../src-main/engine/engine.ts'; export { Engine };", renderer)).toEqual([
      expect.stringContaining('only src-shared crosses the boundary'),
    ]);
    expect(await boundaryErrors("import { LIMITS } from '../../src-shared/chat-api.ts'; import { useState } from 'react'; import { Bubble } from './Bubble.tsx'; export { LIMITS, useState, Bubble };", renderer)).toEqual([]);
  });
});
