// The benchmark page: `npm run bench` opens it headless and collects window.__result.
import { formatReport, runBench, type Family, type Shape4 } from './bench';

declare global {
  interface Window {
    __result?: unknown;
    __error?: string;
  }
}

const params = new URLSearchParams(location.search);
const shapeList = (name: string) =>
  params
    .get(name)
    ?.split(';')
    .map((s) => s.split(',').map(Number) as Shape4);
const numbers = (name: string) => params.get(name)?.split(',').map(Number);
const shapes = shapeList('shapes');
const tfjsShapes = shapeList('tfjsShapes');
const netBatches = numbers('netBatches');
const families = params.get('ops')?.split(',') as Family[] | undefined;
const out = document.getElementById('out')!;
const bar = document.getElementById('progress') as HTMLProgressElement;

runBench({
  ...(shapes ? { shapes } : {}),
  ...(tfjsShapes ? { tfjsShapes } : {}),
  ...(netBatches ? { netBatches } : {}),
  ...(families ? { families } : {}),
  ...(params.get('batches') ? { batches: Number(params.get('batches')) } : {}),
  ...(params.get('groupMs') ? { groupMs: Number(params.get('groupMs')) } : {}),
  ...(params.get('trainBatch') ? { trainBatches: params.get('trainBatch')!.split(',').map(Number) } : {}),
  onProgress: (done, total, line) => {
    bar.value = done / total;
    out.textContent = `${done}/${total} ${line}`;
    console.log(`[progress] ${done}/${total} ${line}`);
  },
}).then(
  (report) => {
    out.textContent = formatReport(report);
    window.__result = report;
  },
  (e: unknown) => {
    out.textContent = String(e);
    window.__error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  },
);
