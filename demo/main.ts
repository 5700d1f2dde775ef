import { formatValidation, runValidation } from './validation';

declare global {
  interface Window {
    __result?: unknown;
    __error?: string;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function main() {
  if (!('gpu' in navigator)) {
    const box = $('nogpu');
    box.hidden = false;
    box.textContent =
      'WebGPU is not available in this browser. Use Chrome or Edge 113+ (or Chromium started with ' +
      '--enable-unsafe-webgpu), over https or localhost. On Linux you may also need --enable-features=Vulkan.';
    window.__error = 'WebGPU unavailable';
    return;
  }
  const bar = $<HTMLProgressElement>('progress');
  const body = $('table').querySelector('tbody')!;
  const report = await runValidation((row, done, total) => {
    bar.value = done / total;
    const tr = document.createElement('tr');
    const cells = [row.kernel, `[${row.shape.join(', ')}] ${row.layout}`, row.maxAbs.toExponential(2), row.maxRel.toExponential(2), row.worst.toFixed(3), row.ms.toFixed(1)];
    for (const c of cells) tr.insertCell().textContent = c;
    const res = tr.insertCell();
    res.textContent = row.pass ? 'pass' : 'FAIL';
    res.className = row.pass ? 'pass' : 'fail';
    body.append(tr);
    console.log(`[progress] ${done}/${total} ${row.kernel} [${row.shape.join(',')}] ${row.layout} ${row.pass ? 'pass' : 'FAIL'}`);
  });
  $('adapter').textContent = `Adapter: ${report.adapter.vendor} ${report.adapter.architecture} ${report.adapter.description}`;
  $('out').textContent = formatValidation(report);
  window.__result = report;
}

main().catch((e: unknown) => {
  $('out').textContent = String(e);
  window.__error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
});
