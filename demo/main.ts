// The demo page: curves, validation, benchmark, training, classify and model panels. `?report=1`
// runs the validation alone (what `npm run report` reads headless); `?bench=N,C,H,W;…`, `?steps=K`
// (and `?batch=B`) and `?classify=N` shorten the benchmark, the training and the classify panel (the
// end-to-end test uses them).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-cpu';
import { AconGPU } from '../src/index';
import type { Shape4 } from '../bench/bench';
import { setupCurves } from './curves';
import { formatValidation, runValidation } from '../tools/report/validation';
import { describeTraining, HELD_OUT, runBenchPanel, runTraining, sampleGrid, summaries } from './panels';
import { figures, type Figures } from './figures';
import { setupModelPanel } from './models';
import { fashionSamples, fashionSplit, unavailable } from './fashion';
import { setupClassifyPanel } from './classify';
import { FASHION_CLASSES, type FashionMnist } from '../tools/fashionMnist';

declare global {
  interface Window {
    __result?: unknown;
    __error?: string;
    /** Panel outcomes, for the end-to-end test. */
    __panels?: Record<string, 'running' | 'ok' | 'failed'>;
    /** The numbers behind the figures, for the end-to-end test (demo/figures.ts). */
    __figures?: Figures;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const panels: Record<string, 'running' | 'ok' | 'failed'> = (window.__panels = {});
window.__figures = figures;
const hasWebGPU = 'gpu' in navigator && (await navigator.gpu.requestAdapter().catch(() => null)) !== null;

function progress(id: string) {
  const bar = $<HTMLProgressElement>(id);
  return (done: number, total: number) => (bar.value = done / total);
}

async function panel<T>(
  name: string,
  button: HTMLButtonElement | null,
  status: HTMLElement,
  run: () => Promise<T>,
  describe: (r: T) => string,
): Promise<void> {
  panels[name] = 'running';
  if (button) button.disabled = true;
  status.textContent = 'running…';
  try {
    const r = await run();
    status.textContent = describe(r);
    panels[name] = 'ok';
  } catch (e) {
    console.error(e);
    status.textContent = `failed: ${e instanceof Error ? e.message : String(e)}`;
    panels[name] = 'failed';
  } finally {
    if (button) button.disabled = false;
  }
}

async function validate(): Promise<void> {
  const body = $('table').querySelector('tbody')!;
  body.replaceChildren();
  const bar = progress('validation-progress');
  await panel(
    'validation',
    $<HTMLButtonElement>('run-validation'),
    $('validation-status'),
    async () => {
      const report = await runValidation((row, done, total) => {
        bar(done, total);
        const tr = document.createElement('tr');
        for (const c of [
          row.kernel,
          `[${row.shape.join(', ')}] ${row.layout}`,
          row.maxAbs.toExponential(2),
          row.maxRel.toExponential(2),
          row.worst.toFixed(3),
          row.ms.toFixed(1),
        ])
          tr.insertCell().textContent = c;
        const res = tr.insertCell();
        res.textContent = row.pass ? 'pass' : 'FAIL';
        res.className = row.pass ? 'pass' : 'fail';
        body.append(tr);
        console.log(
          `[progress] ${done}/${total} ${row.kernel} [${row.shape.join(',')}] ${row.layout} ${row.pass ? 'pass' : 'FAIL'}`,
        );
      });
      $('out').textContent = formatValidation(report);
      window.__result = report;
      if (!report.ok) throw new Error('some checks failed');
      return report;
    },
    (r) => `all ${r.rows.length} checks pass on ${r.adapter.vendor} ${r.adapter.architecture}`.trim(),
  );
}

async function main() {
  if (!hasWebGPU) {
    const box = $('nogpu');
    box.hidden = false;
    box.textContent =
      'WebGPU is not available in this browser, so the GPU kernels cannot run here. Use Chrome or Edge 113+ ' +
      '(or Chromium started with --enable-unsafe-webgpu; on Linux also --enable-features=Vulkan), over https or ' +
      'localhost. The curves below show the CPU reference, and training runs on the TensorFlow.js CPU backend.';
    for (const id of ['run-validation', 'run-bench']) $<HTMLButtonElement>(id).disabled = true;
  }
  if (params.has('report')) {
    await validate();
    return;
  }
  const acon = hasWebGPU ? await AconGPU.create() : null;
  if (acon) {
    const info = (acon.device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    $('adapter').textContent =
      `Adapter: ${[info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ')}${acon.context.software ? ' (software, runs on the CPU: slow)' : ''}`;
  }
  await tf.setBackend(hasWebGPU ? 'webgpu' : 'cpu');
  panels.curves = 'running';
  setupCurves($('curves-body'), acon).ready.then(
    () => (panels.curves = 'ok'),
    (e: unknown) => {
      console.error(e);
      panels.curves = 'failed';
    },
  );
  // all 10,000 test images on a GPU; the first 1,000 on a CPU (SwiftShader: 30–60 s per network)
  const software = !acon || acon.context.software;
  $<HTMLInputElement>('classify-count').value = params.get('classify') ?? (software ? '1000' : '10000');
  const fashion = setupFashion();

  $('run-validation').addEventListener('click', () => void validate());
  const benchShapes = params
    .get('bench')
    ?.split(';')
    .map((s) => s.split(',').map(Number) as Shape4);
  $('run-bench').addEventListener(
    'click',
    () =>
      void panel(
        'benchmark',
        $<HTMLButtonElement>('run-bench'),
        $('bench-status'),
        () => runBenchPanel($('bench-body'), benchShapes, progress('bench-progress')),
        (r) => `${r.results.length} measurements on ${r.adapter.vendor} ${r.adapter.architecture}`,
      ),
  );
  if (params.get('steps')) $<HTMLInputElement>('train-steps').value = params.get('steps')!;
  if (params.get('batch')) $<HTMLInputElement>('train-batch').value = params.get('batch')!;
  const model = setupModelPanel($('model-body'), (f) => (figures.model = f));
  $('run-model').addEventListener(
    'click',
    () =>
      void panel(
        'model',
        $<HTMLButtonElement>('run-model'),
        $('model-status'),
        model.run,
        (f) =>
          `top-1 ${f.fused[0]!.label.split(',')[0]} (${(100 * f.fused[0]!.probability).toFixed(1)} %): fused ${f.fusedMs.toFixed(0)} ms, composed ${f.composedMs.toFixed(0)} ms per image (${(f.fusedMs / f.composedMs).toFixed(2)}×)`,
      ),
  );
  $('run-training').addEventListener(
    'click',
    () =>
      void panel(
        'training',
        $<HTMLButtonElement>('run-training'),
        $('train-status'),
        async () => {
          // Fashion-MNIST's training split is fetched at the first run (26 MB gzipped)
          const test = await fashion;
          const task = test ? { train: await fashionSplit('train'), test } : null;
          const runs = await runTraining(
            $('train-body'),
            task,
            Number($<HTMLInputElement>('train-steps').value),
            Number($<HTMLInputElement>('train-batch').value),
            progress('train-progress'),
          );
          return describeTraining(task, runs);
        },
        (text) => text,
      ),
  );
  const test = await fashion;
  if (test) {
    const classify = setupClassifyPanel(
      $('classify-body'),
      test,
      $<HTMLInputElement>('classify-count'),
      progress('classify-progress'),
    );
    $<HTMLButtonElement>('run-classify').disabled = false;
    $('run-classify').addEventListener(
      'click',
      () =>
        void panel(
          'classify',
          $<HTMLButtonElement>('run-classify'),
          $('classify-status'),
          classify.run,
          (f) =>
            `${f.count.toLocaleString('en-US')} test images: ${Object.entries(f.nets)
              .map(([kind, r]) => `${kind} ${r.shownAccuracyText}, ${r.differFromTorch} differ from PyTorch`)
              .join(' · ')}`,
        ),
    );
  }
}

/**
 * Fashion-MNIST's test split, for the training panel's samples and held-out images and for the
 * classify panel; where the dataset is absent (or unreadable) the page says so, the training panel
 * falls back to the synthetic task, and the classify panel stays off.
 */
async function setupFashion(): Promise<FashionMnist | null> {
  const note = $('train-task');
  try {
    const test = await fashionSplit('test');
    note.textContent =
      `Task: Fashion-MNIST, 10 classes of clothing (28 × 28 grey, padded to 32 × 32 and repeated over 3 channels as in ` +
      `PyTorch's experiment, scripts/fashion_experiment.py); Adam 1e-3, cross-entropy, a shuffled order of the ` +
      `60,000 training images; held-out: the first ${HELD_OUT} test images. The first 16 test images:`;
    fashionSamples($('samples'), test);
    summaries($('summaries'), FASHION_CLASSES.length);
    return test;
  } catch (e) {
    const why = unavailable(e);
    console.warn(e);
    note.className = 'warn';
    note.textContent = `${why}: training on the synthetic red-disc task instead (is the shape a red disc? Both shape and colour matter).`;
    sampleGrid($('samples'));
    summaries($('summaries'), 1);
    $('classify-body').append(
      Object.assign(document.createElement('p'), {
        className: 'warn',
        textContent: `${why}: nothing to classify here. Install it (apt-get install dataset-fashion-mnist) and serve the page with npm run demo.`,
      }),
    );
    return null;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  $('out').hidden = false;
  $('out').textContent = String(e);
  window.__error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
});
