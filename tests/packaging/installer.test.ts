// The installers, checked as far as this machine allows: Electron's binary cannot be downloaded
// here, so electron-builder packs a Linux folder around a stand-in binary that carries only
// Electron's fuse wire. The app.asar it assembles and the fuses it flips are then read back.
// Needs `npm run build` first (`npm test` runs it).
import { extractFile, listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { Packager } from 'electron-builder';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPaths } from '../../src-main/app/paths.ts';

const root = path.resolve(import.meta.dirname, '../..');
const projectPackage = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  devDependencies: Record<string, string>;
};

// @electron/fuses' wire: a sentinel, the wire version, its length, then one byte per fuse.
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's shipped states in FuseV1Options order ('1' on, '0' off): every fuse we set starts
// the other way, so reading our values back proves the packaging flipped them.
const SHIPPED_FUSES = '10110001';

/** Every file and folder under `dir` of the project, as the asar lists them ("/dist/main", ...). */
function projectEntries(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((rel) => `/${dir}/${rel.split(path.sep).join('/')}`);
}

/** The package folder `name` resolves to from `fromDir`, the way Node looks it up. */
function findPackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}

/** Packages the built main and preload import by name, with everything those need installed. */
function runtimePackages(): string[] {
  const bundles = [projectPackage.main, path.relative(root, appPaths(root).preload)];
  const imported = bundles.flatMap((file) =>
    ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true).importedFiles.map((ref) => ref.fileName),
  );
  // Electron provides itself and Node's modules; relative imports are inside the bundles.
  const pending = imported.filter((name) => name !== 'electron' && !isBuiltin(name) && !name.startsWith('.')).map((name) => ({ name, from: root }));
  const found = new Set<string>();
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const dir = findPackage(next.name, next.from);
    if (dir === undefined || found.has(dir)) continue;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const needs = { ...manifest.peerDependencies, ...manifest.optionalDependencies, ...manifest.dependencies };
    for (const name of Object.keys(needs)) pending.push({ name, from: dir });
  }
  return [...found].map((dir) => `/${path.relative(root, dir).split(path.sep).join('/')}`).sort();
}

/** electron-builder.yml as electron-builder loads it, after its own schema validation. */
async function validatedConfig(extra?: object) {
  const packager = new Packager({ projectDir: root, config: extra });
  await packager.validateConfig();
  return packager.config;
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation, which refuses a misspelt option", async () => {
    expect((await validatedConfig()).productName).toBe('ChatP2P');
    await expect(validatedConfig({ electronFuse: {} })).rejects.toThrow("unknown property 'electronFuse'");
  });

  it("uses main's AppUserModelID as its appId, or Windows would drop the app's notifications", async () => {
    const { appId } = await validatedConfig();
    const mainSource = readFileSync(path.join(root, 'src-main/app/main.ts'), 'utf8');
    expect(mainSource).toMatch(new RegExp(`APP_USER_MODEL_ID = '${appId?.replaceAll('.', '\\.')}'`));
  });
});

describe('the packaged app (electron-builder --linux dir, stand-in Electron)', () => {
  let temp: string;
  let unpacked: string;
  let asar: string;
  let entries: string[];

  beforeAll(async () => {
    if (!existsSync(path.join(root, projectPackage.main))) throw new Error('No build in dist/: run `npm run build` first.');
    temp = mkdtempSync(path.join(os.tmpdir(), 'chatp2p-pack-'));
    const electronDist = path.join(temp, 'electron-dist');
    const output = path.join(temp, 'out');
    mkdirSync(electronDist);
    const standIn = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, SHIPPED_FUSES.length]), Buffer.from(SHIPPED_FUSES)]);
    writeFileSync(path.join(electronDist, 'electron'), standIn, { mode: 0o755 });
    const cli = createRequire(import.meta.url).resolve('electron-builder/cli.js');
    const args = [cli, '--linux', 'dir', `-c.electronDist=${electronDist}`, `-c.directories.output=${output}`];
    await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 16 * 1024 * 1024 }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`electron-builder could not pack the app:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    unpacked = path.join(output, 'linux-unpacked');
    asar = path.join(unpacked, 'resources', 'app.asar');
    entries = listPackage(asar, { isPack: false });
  }, 180_000);

  afterAll(() => {
    if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
  });

  it('holds the main, preload and renderer bundles and the images main loads', () => {
    const packed = new Set(entries);
    const files = appPaths('/');
    for (const file of [`/${projectPackage.main}`, files.preload, files.icon, files.trayIcon, files.overlayIcon]) expect(packed, file).toContain(file);
    for (const file of projectEntries('dist/renderer')) expect(packed, file).toContain(file);
    expect(packed).toContain(path.posix.join(files.renderer, 'index.html'));
    // Electron starts the file named by the packed package.json, as an ES module.
    const manifest = JSON.parse(extractFile(asar, 'package.json').toString('utf8')) as { main?: string; type?: string };
    expect({ main: manifest.main, type: manifest.type }).toEqual({ main: projectPackage.main, type: 'module' });
  });

  it('holds nothing else of the project: no sources, tests, build scripts or configuration', () => {
    const topLevel = entries.filter((entry) => entry.lastIndexOf('/') === 0);
    expect(topLevel.sort()).toEqual(['/assets', '/dist', '/node_modules', '/package.json']);
    expect(entries.filter((entry) => entry.startsWith('/dist/')).sort()).toEqual(projectEntries('dist').sort());
    const images = appPaths('/');
    expect(entries.filter((entry) => entry.startsWith('/assets/')).sort()).toEqual([images.icon, images.overlayIcon, images.trayIcon].sort());
  });

  it('holds the packages main imports with their dependencies, and no dev dependency or bundled one', () => {
    const packages = entries.filter((entry) => /\/node_modules\/(@[^/]+\/)?[^/]+$/.test(entry) && entries.includes(`${entry}/package.json`)).sort();
    const packedDevDependencies = packages.filter((entry) => Object.hasOwn(projectPackage.devDependencies, entry.replace(/^.*\/node_modules\//, '')));
    expect(packedDevDependencies).toEqual([]);
    expect(packages).toContain('/node_modules/electron-store');
    expect(packages).toEqual(runtimePackages());
  });

  it('has its fuses flipped: no run-as-node, NODE_OPTIONS or inspect flags, asar only and checked, file:// without extra privileges', async () => {
    const binaries = readdirSync(unpacked).filter((name) => name !== 'resources');
    expect(binaries).toHaveLength(1);
    const wire = await getCurrentFuseWire(path.join(unpacked, binaries[0] ?? ''));
    const on = (fuse: FuseV1Options) => String.fromCharCode(wire[fuse] ?? 0) === '1';
    expect({
      runAsNode: on(FuseV1Options.RunAsNode),
      enableNodeOptionsEnvironmentVariable: on(FuseV1Options.EnableNodeOptionsEnvironmentVariable),
      enableNodeCliInspectArguments: on(FuseV1Options.EnableNodeCliInspectArguments),
      enableEmbeddedAsarIntegrityValidation: on(FuseV1Options.EnableEmbeddedAsarIntegrityValidation),
      onlyLoadAppFromAsar: on(FuseV1Options.OnlyLoadAppFromAsar),
      grantFileProtocolExtraPrivileges: on(FuseV1Options.GrantFileProtocolExtraPrivileges),
    }).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
