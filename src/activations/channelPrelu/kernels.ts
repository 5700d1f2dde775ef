// Per-channel PReLU's kernels: an elementwise forward; a backward that writes dx and each element's
// term of dweight, which the shared plane sums (src/kernels/reduce.ts) and weight_sums reduce per
// channel in a fixed order (deterministic).
import code from './prelu.wgsl?raw';
import type { Geometry } from '../../core/types';
import { Shader } from '../../gpu/shader';
import { encodeMeansFromPartials, encodePlanePartials, meanPlan } from '../../kernels/reduce';
import { sliceWorkgroup, WGSL_PRELUDE } from '../../kernels/plan';
import type { KernelCall, Kernels } from '../types';
import type { channelPreluParams } from './params';

export const PRELU_SHADER = new Shader('prelu', WGSL_PRELUDE + code);

const uniforms = ({ n, c, h, w, dataFormat }: Geometry) =>
  PRELU_SHADER.uniforms({
    count: n * c * h * w,
    batch: n,
    channels: c,
    plane: h * w,
    channels_last: +(dataFormat === 'NHWC'),
  });

/** One invocation per item, WG to a workgroup. */
const run = (k: KernelCall, entry: string, items: number) => ({
  pipeline: k.ctx.pipeline(PRELU_SHADER, entry, { WG: sliceWorkgroup(k.ctx.software) }),
  workgroups: Math.ceil(items / sliceWorkgroup(k.ctx.software)),
});

/** The caller's parameter buffers may be larger than C (tfjs's): bind exactly C values. */
const channels = (k: KernelCall, buffer: GPUBuffer) => ({ buffer, size: k.geo.c * 4 });

export const channelPreluKernels: Kernels<typeof channelPreluParams, object, never> = {
  shaders: [PRELU_SHADER],
  forward(rec, k, { x, y, params }) {
    const { pipeline, workgroups } = run(k, 'forward', k.geo.n * k.geo.c * k.geo.h * k.geo.w);
    rec.dispatch(
      pipeline,
      uniforms(k.geo),
      PRELU_SHADER.bind({ x, weight: channels(k, params.weight), y }),
      workgroups,
    );
    return {};
  },
  backward(rec, k, { x, dy, dx, params, grads }) {
    const g = k.geo;
    const count = g.n * g.c * g.h * g.w;
    const terms = rec.temp(count * 4);
    const pass = run(k, 'backward', count);
    rec.dispatch(
      pass.pipeline,
      uniforms(g),
      PRELU_SHADER.bind({ x, dy, weight: channels(k, params.weight), dx, terms }),
      pass.workgroups,
    );
    // the plane sums of the terms (the shared spatial mean's passes, scale 1), then over the batch
    const sums = rec.temp(g.n * g.c * 4);
    const partials = encodePlanePartials(k.ctx, rec, g, { x: terms });
    encodeMeansFromPartials(k.ctx, rec, g, { partials: { ...partials, scale: 1 }, means: sums });
    const finish = run(k, 'weight_sums', g.c);
    rec.dispatch(
      finish.pipeline,
      uniforms(g),
      PRELU_SHADER.bind({ sums, dweight: channels(k, grads.weight) }),
      finish.workgroups,
    );
  },
  // the plane sums' chain, then N terms over the batch
  reductionDepth: (geo, _perSample, software) => meanPlan(geo, software).depth + geo.n,
};
