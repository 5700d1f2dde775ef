// Per-channel PReLU's parameter: PyTorch's nn.PReLU(C).weight, [C], initialised to 0.25.
export const channelPreluParams = {
  weight: {
    shape: ['C'],
    role: 'trainable',
    init: { kind: 'const', value: 0.25 },
    fixture: { kind: 'uniform', lo: -0.5, hi: 0.5 },
  },
} as const;
