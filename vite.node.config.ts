import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// The command line for Node (node/main.ts: info, report, bench) as one ES module,
// build-node/acon-node.mjs: the library, the validation report, the bench and tfjs bundled in, the
// WGSL inlined through ?raw. `webgpu` (Dawn: a native addon beside a small index.js) stays an
// import, found in node_modules here and in the GPU bundle's own app/node_modules (scripts/gpu-bundle.sh).
export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  build: {
    ssr: resolve(import.meta.dirname, 'node/main.ts'),
    outDir: resolve(import.meta.dirname, 'build-node'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rollupOptions: {
      external: ['webgpu'],
      output: { entryFileNames: 'acon-node.mjs', codeSplitting: false },
    },
  },
  ssr: { noExternal: true, target: 'node' },
});
