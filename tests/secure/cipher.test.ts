// Where node:crypto has no ChaCha20-Poly1305 (Electron's BoringSSL, as the desktop stand-in builds
// it), the engine must start at once and seal with libsodium's; and when libsodium cannot load, go
// on sealing with @noble's and say so, rather than keep the app from starting.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const boringssl = fileURLToPath(new URL('../desktop/standin/boringssl.ts', import.meta.url));

async function child(...preload: string[]) {
  const flags = ['--disable-warning=ExperimentalWarning', '--import', boringssl, ...preload.flatMap((p) => ['--import', here(p)])];
  const { stdout } = await run(process.execPath, [...flags, here('./cipher-child.ts')], { timeout: 30_000 });
  return JSON.parse(stdout) as { atImport: string; afterStart: string; security: string; received: string; logs: string[] };
}

it("imports without waiting for libsodium, and seals with libsodium's once the engines have started", async () => {
  const r = await child();
  expect(r.atImport).toBe('@noble');
  expect(r).toMatchObject({ afterStart: 'libsodium', security: 'encrypted', received: 'selado' });
  expect(r.logs.filter((l) => l.includes('libsodium'))).toEqual([]);
});

it("seals with @noble's when libsodium cannot load, and says so once per engine", async () => {
  const r = await child('./no-libsodium.ts');
  expect(r).toMatchObject({ atImport: '@noble', afterStart: '@noble', security: 'encrypted', received: 'selado' });
  expect(r.logs.filter((l) => l.startsWith("WARN libsodium did not load (Cannot find package 'libsodium-wrappers')"))).toHaveLength(2);
});
