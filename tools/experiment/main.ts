// `npm run experiment`: the seed's experiment from our side (scripts/fashion_experiment.py is
// PyTorch's). Evaluates the converted seed-0 networks shipped in demo/fashion on the Fashion-MNIST test
// images on tfjs's webgpu backend (our fused ACON kernels), counts the predictions that differ from
// PyTorch's (experiment.json) and prints the table beside PyTorch's. `?train=1` also trains the three
// networks with the same recipe here (Adam 1e-3, batch 64, `epochs` epochs) and evaluates them.
// A CPU adapter (SwiftShader) runs the seed networks about 100× slower than a GPU: there the defaults
// are a subset (the first 1,000 test images; 2,048 training images, 1 epoch), said in the output;
// `?limit=N`, `?trainLimit=N`, `?epochs=N` choose.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { isSoftwareDevice } from '../../src/gpu/context';
import { loadCheckpoint } from '../../src/models/checkpoint';
import { paramCounts, NET_KINDS, type NetKind } from '../../src/layers/networks';
import { loadFashionMnist } from '../fashionMnist';
import { evaluateFashion, trainFashion, type Evaluation } from '../fashionTrain';
import experiment from '../../demo/fashion/experiment.json';

declare global {
  interface Window {
    __result?: unknown;
    __error?: string;
  }
}

const params = new URLSearchParams(location.search);
const out = document.getElementById('out')!;
const bar = document.getElementById('progress') as HTMLProgressElement;
const log = (line: string) => {
  out.textContent = line;
  console.log(`[progress] ${line}`);
};
const count = (name: string, fallback: number) => {
  const v = params.get(name);
  if (v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}: not a positive integer: ${JSON.stringify(v.slice(0, 20))}`);
  return n;
};

const read = async (file: string) => {
  const r = await fetch(`/datasets/fashion-mnist/${file}`);
  if (!r.ok)
    throw new Error(
      `Fashion-MNIST is not served (HTTP ${r.status} for ${file}): install Debian's dataset-fashion-mnist (npm run experiment's setup does, as root)`,
    );
  return new Uint8Array(await r.arrayBuffer());
};

interface Row {
  net: NetKind;
  params: number;
  images: number;
  accuracy: number;
  /** PyTorch's seed-0 network on the same images. */
  torchAccuracy: number;
  differ: number;
  ms: number;
}

/** Our evaluation beside PyTorch's seed-0 predictions of the same images. */
function compare(net: NetKind, e: Evaluation, labels: Uint8Array, params: number): Row {
  const torch = experiment.predictions_seed0[net];
  let differ = 0;
  let torchCorrect = 0;
  for (let i = 0; i < e.count; i++) {
    if (e.predictions[i] !== Number(torch[i])) differ++;
    if (Number(torch[i]) === labels[i]) torchCorrect++;
  }
  return {
    net,
    params,
    images: e.count,
    accuracy: e.accuracy,
    torchAccuracy: torchCorrect / e.count,
    differ,
    ms: e.ms,
  };
}

const pct = (v: number) => (100 * v).toFixed(2);

async function main() {
  await tf.setBackend('webgpu');
  await tf.ready();
  const software = isSoftwareDevice((tf.backend() as WebGPUBackend).device);
  const limit = count('limit', software ? 1_000 : 10_000);
  const lines: string[] = [];
  if (software && !params.has('limit'))
    lines.push(
      '*** a CPU adapter (SwiftShader): the first 1,000 test images only (?limit=10000 / --limit 10000 for all) ***',
    );
  log('loading Fashion-MNIST');
  const test = await loadFashionMnist('test', read);
  const rows: Row[] = [];
  for (const net of NET_KINDS) {
    const file = await fetch(`/demo/fashion/${net}.safetensors`);
    const { model } = loadCheckpoint(new Uint8Array(await file.arrayBuffer()));
    const e = await evaluateFashion(model, test, {
      limit,
      onProgress: (done, total) => {
        bar.value = done / total;
        log(`${net}: ${done}/${total} test images`);
      },
    });
    rows.push(compare(net, e, test.labels, paramCounts(model).trainable));
    model.dispose();
  }
  const s = experiment.summary as Record<
    NetKind,
    { accuracy_mean: number; accuracy_sd: number; params: number; ms_per_epoch: number }
  >;
  lines.push(
    `The converted seed-0 networks on ${rows[0]!.images === test.count ? 'all' : 'the first'} ${rows[0]!.images.toLocaleString('en')} test images, webgpu (${software ? 'CPU adapter' : 'GPU'}):`,
    '',
    '| network | PyTorch, 3 seeds (10k) | PyTorch seed 0, same images | ours, same images | predictions differing | params |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.net} | ${pct(s[r.net].accuracy_mean)} ± ${pct(s[r.net].accuracy_sd)} % | ${pct(r.torchAccuracy)} % | ${pct(r.accuracy)} % | ${r.differ} of ${r.images.toLocaleString('en')} | ${r.params.toLocaleString('en')} |`,
    ),
  );
  // the target: at most 0.1 % of the predictions differ from PyTorch's
  const ok = rows.every((r) => r.differ <= Math.floor(r.images / 1000));
  lines.push(
    '',
    ok
      ? 'ok: at most 0.1 % of predictions differ from PyTorch’s'
      : 'FAILED: more than 0.1 % of predictions differ from PyTorch’s',
  );
  const result: Record<string, unknown> = { ok, software, limit, evaluation: rows };
  if (params.get('train') === '1') {
    const trainLimit = count('trainLimit', software ? 2_048 : 60_000);
    const epochs = count('epochs', software ? 1 : 2);
    log('loading the Fashion-MNIST training images');
    const train = await loadFashionMnist('train', read);
    const trained: (Row & { msPerEpoch: number; trainImages: number; epochs: number; lastLoss: number })[] = [];
    for (const net of NET_KINDS) {
      const t = await trainFashion(net, train, {
        epochs,
        limit: trainLimit,
        onProgress: ({ step, steps, loss }) => {
          bar.value = step / steps;
          if (step % 10 === 0 || step === steps) log(`${net}: training step ${step}/${steps}, loss ${loss.toFixed(4)}`);
        },
      });
      const e = await evaluateFashion(t.model, test, { limit });
      trained.push({
        ...compare(net, e, test.labels, paramCounts(t.model).trainable),
        msPerEpoch: t.msPerEpoch,
        trainImages: t.images,
        epochs,
        lastLoss: t.loss.at(-1)!,
      });
      t.dispose();
    }
    lines.push(
      '',
      `Trained here with the same recipe (Adam 1e-3, batch 64) on ${trained[0]!.trainImages.toLocaleString('en')} training images × ${epochs} epoch(s)` +
        `${trainLimit < 60_000 ? ' (a subset: the full recipe is 60,000 × 2)' : ''}, evaluated on the same test images:`,
      '',
      '| network | accuracy | PyTorch seed 0 (trained on all 60k × 2) | last loss | ms per epoch | params |',
      '|---|---|---|---|---|---|',
      ...trained.map(
        (r) =>
          `| ${r.net} | ${pct(r.accuracy)} % | ${pct(r.torchAccuracy)} % | ${r.lastLoss.toFixed(4)} | ${r.msPerEpoch.toFixed(0)} | ${r.params.toLocaleString('en')} |`,
      ),
    );
    result.training = trained;
  }
  out.textContent = lines.join('\n');
  window.__result = result;
}

main().catch((e: unknown) => {
  out.textContent = String(e);
  window.__error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
});
