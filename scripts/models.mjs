// npm run models [-- --json] [-- --only NAME,NAME]: builds every network of src/models/catalog.ts as
// a tf.layers model (tfjs's CPU backend in Node: no GPU needed) and prints its name and trainable /
// non-trainable parameter counts, as a table or (--json) as one JSON object per line.
import { createServer } from 'vite';

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1]?.split(',')) : null;

const server = await createServer({
  configFile: false,
  root: new URL('..', import.meta.url).pathname,
  logLevel: 'error',
  server: { middlewareMode: true, hmr: false },
  appType: 'custom',
  optimizeDeps: { noDiscovery: true, include: [] },
});
try {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  const { catalog } = await server.ssrLoadModule('/src/models/catalog.ts');
  const { paramCounts } = await server.ssrLoadModule('/src/layers/networks.ts');
  const entries = catalog().filter((e) => !only || only.has(e.name));
  if (only && entries.length !== only.size) {
    console.error(
      `unknown network name(s); known: ${catalog()
        .map((e) => e.name)
        .join(', ')}`,
    );
    process.exitCode = 2;
  }
  if (!json) console.log('network                    trainable   non-trainable');
  for (const entry of entries) {
    const model = entry.build('composed');
    const { trainable, nonTrainable } = paramCounts(model);
    model.dispose();
    if (json) console.log(JSON.stringify({ name: entry.name, trainable, nonTrainable }));
    else
      console.log(`${entry.name.padEnd(26)} ${String(trainable).padStart(10)}   ${String(nonTrainable).padStart(13)}`);
  }
} finally {
  await server.close();
}
