// ACON-C's parameters (apart from the declaration, so that its kernels and Meta-ACON-C can name them).
const channel = { shape: ['C'], torchShape: [1, 'C', 1, 1], role: 'trainable' } as const;

/** p1, p2 ~ N(0, 1) and β = 1, [C] each (PyTorch [1, C, 1, 1]); β may hold N·C values, one per sample. */
export const aconCParams = {
  p1: { ...channel, init: { kind: 'normal', std: 1 } },
  p2: { ...channel, init: { kind: 'normal', std: 1 } },
  beta: { ...channel, perSample: true, init: { kind: 'const', value: 1 } },
} as const;
