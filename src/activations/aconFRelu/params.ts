// ACON-FReLU's parameters, as TFNet/network.py's Acon_FReLU names them: the depthwise conv
// (conv_frelu, 3×3 with bias, groups = C) and two batch norms. PyTorch's default inits: the conv's
// weight and bias U(±1/√9) (fan-in 1·3·3), the batch norms γ 1, β 0, running mean 0, variance 1.
import { batchNorm } from '../generator';

const bn = (key: 'bn1' | 'bn2') => batchNorm(key, { from: 'c', to: 'x2', saved: 's', features: 'C' }).params[key];

export const aconFReluParams = {
  convFrelu: {
    /** [C, 3, 3] here and in tf.layers; PyTorch's [C, 1, 3, 3] (the same values in the same order). */
    weight: {
      shape: ['C', 3, 3],
      torchShape: ['C', 1, 3, 3],
      role: 'trainable',
      init: { kind: 'fanIn', dim: 9 },
      fixture: { kind: 'normal', std: 0.5 },
    },
    bias: { shape: ['C'], role: 'trainable', init: { kind: 'fanIn', dim: 9 }, fixture: { kind: 'normal', std: 0.3 } },
  },
  bn1: bn('bn1'),
  bn2: bn('bn2'),
} as const;
