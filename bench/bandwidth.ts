// The numerator of a kernel's effective bandwidth (bytesMoved) and the known cards' peaks it is read against.
import { ACTIVATIONS } from '../src/activations/registry';
import type { KernelOp, Op, Shape4 } from './types';

/**
 * Bytes an op must move between memory and the chip, the numerator of its effective bandwidth: the
 * declaration's bench.bytes, per element and per channel (4 B a float32; n = N·C·H·W elements, C
 * channels; the bench's β is per channel). ACON-C's and Meta-ACON-C's, derived:
 * - aconC.forward: read x, write y: 8n; read p1, p2, β: 12·C.
 * - aconC.backward: read x and dy, write dx: 12n; read p1, p2, β and write dp1, dp2, dβ: 24·C. (The
 *   kernel's per-invocation partial sums of the parameter gradients are its own overhead, not counted.)
 * - metaAconC.forward (training): read x for the spatial mean, read x again for ACON-C, write y: 12n
 *   (β depends on the mean of all of x, so x cannot stay on the chip between the two reads).
 * - metaAconC.backward: read x (the mean), x and dy (dβ), x and dy again, writing dx: 24n.
 *   Meta-ACON's parameters and β generator (p1, p2, 2·C·R weights, batch norm) are left out.
 * - aconFReLU.forward (eval, stride 1): read x (each element once, the 3×3 window from the cache),
 *   write y: 8n; 18 parameters per channel: 72·C.
 * - aconFReLU.backward (training, stride 1): read x and dy, write dx: 12n; 18 parameters read and 6
 *   gradients written: 96·C. (Its kept windows, dz and partial sums are its own overhead.)
 * The copy roofline copies exactly the per-element bytes (8n, 12n, 12n, 24n).
 */
export function bytesMoved(op: KernelOp, [N, C, H, W]: Shape4): number {
  const [name, direction] = op.split('.') as [string, 'forward' | 'backward'];
  const [perElement, perChannel] = ACTIVATIONS.find((a) => a.name === name)!.bench.bytes[direction];
  return perElement * N * C * H * W + perChannel * C;
}

/** Effective bandwidth in GB/s of moving `bytes` in `ms` milliseconds. */
export const gbPerSecond = (bytes: number, ms: number) => bytes / (ms * 1e6);

/**
 * Peak memory bandwidth of known cards, GB/s (10⁹ B/s), as their makers state it; matched against the
 * adapter's vendor, architecture, device and description, lower-cased with every run of other
 * characters turned into '-' (Vulkan names a card as CUDA does: "NVIDIA H200", "NVIDIA H100 80GB HBM3",
 * "NVIDIA A100-SXM4-80GB"). Only figures with a source are listed.
 */
export const PEAK_BANDWIDTH: { name: string; match: RegExp; gbps: number; source: string }[] = [
  // H200 SXM and H200 NVL: 141 GB HBM3e at 4.8 TB/s
  {
    name: 'NVIDIA H200',
    match: /(^|-)h200(-|$)/,
    gbps: 4800,
    source: 'https://www.nvidia.com/en-us/data-center/h200/',
  },
  // H100 NVL: 94 GB at 3.9 TB/s; H100 SXM (CUDA/Vulkan name "NVIDIA H100 80GB HBM3"): 80 GB at 3.35 TB/s
  {
    name: 'NVIDIA H100 NVL',
    match: /(^|-)h100-nvl(-|$)/,
    gbps: 3900,
    source: 'https://www.nvidia.com/en-us/data-center/h100/',
  },
  {
    name: 'NVIDIA H100 SXM',
    match: /(^|-)h100-(sxm5?|80gb-hbm3)(-|$)/,
    gbps: 3350,
    source: 'https://www.nvidia.com/en-us/data-center/h100/',
  },
  // A100 datasheet: 80GB SXM 2,039 GB/s, 80GB PCIe 1,935 GB/s, 40GB (PCIe and SXM) 1,555 GB/s
  {
    name: 'NVIDIA A100 80GB SXM',
    match: /(^|-)a100-sxm4?-80gb(-|$)/,
    gbps: 2039,
    source:
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
  },
  {
    name: 'NVIDIA A100 80GB PCIe',
    match: /(^|-)a100-80gb-pcie(-|$)/,
    gbps: 1935,
    source:
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
  },
  {
    name: 'NVIDIA A100 40GB',
    match: /(^|-)a100-((sxm4?|pcie)-)?40gb(-|$)/,
    gbps: 1555,
    source:
      'https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf',
  },
];

/** The PEAK_BANDWIDTH entry matching an adapter, or undefined. */
export function peakBandwidth(info: { vendor?: string; architecture?: string; device?: string; description?: string }) {
  const key = [info.vendor, info.architecture, info.device, info.description]
    .join(' ')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
  return PEAK_BANDWIDTH.find((p) => p.match.test(key));
}

/** Whether an op is a registered activation's kernel op ('aconC.forward'). */
export const isKernelOp = (op: Op): op is KernelOp => {
  const [name, direction, more] = op.split('.');
  return (
    more === undefined &&
    (direction === 'forward' || direction === 'backward') &&
    ACTIVATIONS.some((a) => a.name === name)
  );
};
