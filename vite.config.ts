import tailwindcss from '@tailwindcss/vite';
import { defineConfig, type UserConfig } from 'vite';

// `vite build` builds the renderer; `--mode main` and `--mode preload` build Electron's two Node
// sides. Main stays an ES module (electron-store is one); a sandboxed preload must be one CommonJS
// file with nothing but `electron` outside it.
export default defineConfig(({ mode }): UserConfig => {
  if (mode === 'main') {
    return {
      build: {
        outDir: 'dist/main',
        emptyOutDir: true,
        // Readable stack traces in the user's logs matter more than a few kilobytes here.
        minify: false,
        target: 'node24',
        ssr: 'src-main/app/main.ts',
        rolldownOptions: { external: ['electron'], output: { format: 'es', entryFileNames: 'main.js' } },
      },
    };
  }
  if (mode === 'preload') {
    return {
      build: {
        outDir: 'dist/preload',
        emptyOutDir: true,
        minify: false,
        target: 'node24',
        lib: { entry: 'src-preload/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
        rolldownOptions: { external: ['electron'] },
      },
    };
  }
  return {
    root: 'src-renderer',
    base: './',
    plugins: [tailwindcss()],
    build: { outDir: '../dist/renderer', emptyOutDir: true, target: 'chrome140' },
  };
});
