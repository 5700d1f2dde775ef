// Per-channel PReLU, declared (PyTorch's nn.PReLU(C)): y = x where x ≥ 0, weight[c]·x below. A
// scratch activation, to count what adding one costs; everything else derives from this object.
import { activation } from '../types';
import { channelPreluComposed } from './composed';
import { channelPreluKernels } from './kernels';
import { channelPreluParams } from './params';

export const channelPrelu = activation({
  name: 'channelPrelu',
  title: 'PReLU',
  params: channelPreluParams,
  kernels: channelPreluKernels,
  composed: { y: channelPreluComposed },
  layer: { className: 'ChannelPReLU', args: [] },
  // what it must move: x, y and the weight; x, dy, dx, the weight and its gradient
  bench: { bytes: { forward: [8, 4], backward: [12, 8] }, tfjs: ['forward', 'backward'] },
});
