import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// The command line as one ES module: build-node/acon-node.mjs (node/main.ts, Node on Dawn) or, with
// `--mode deno`, build-node/acon-deno.mjs (node/deno.ts, Deno on its own wgpu): the library, the
// validation report, the bench and tfjs bundled in, the WGSL inlined through ?raw. `webgpu` (Dawn: a
// native addon beside a small index.js) stays an import, found in node_modules here and in the GPU
// bundle's own app/node_modules (scripts/gpu-bundle.sh); the Deno module never imports it.
export default defineConfig(({ mode }) => {
  const deno = mode === 'deno';
  return {
    publicDir: false,
    logLevel: 'warn',
    build: {
      ssr: resolve(import.meta.dirname, deno ? 'node/deno.ts' : 'node/main.ts'),
      outDir: resolve(import.meta.dirname, 'build-node'),
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      sourcemap: false,
      rollupOptions: {
        external: ['webgpu'],
        output: { entryFileNames: deno ? 'acon-deno.mjs' : 'acon-node.mjs', codeSplitting: false },
      },
    },
    ssr: { noExternal: true, target: 'node' },
  };
});
