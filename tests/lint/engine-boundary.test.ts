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
