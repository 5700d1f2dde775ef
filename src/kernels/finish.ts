// The finishing passes of a backward's parameter gradients: partial sums per channel (and per plane
// for a per-sample parameter) summed in a fixed order (deterministic), after group levels where a
// channel has more partials than one invocation should loop over (src/kernels/budget.ts). The WGSL
// entry points are the slice walk's backward_group and backward_finish (acon_c.wgsl today).
import { FINISH_TERMS, finishLevels, type FinishInput, type FinishLevel } from './budget';

/** backward_finish's sums: dp1, dp2 (and a per-channel dβ); a per-sample dβ (the WGSL's `finish` bits). */
export const FINISH_PARAMS = 1;
export const FINISH_SAMPLE_BETA = 2;

/** A finishing dispatch of the backward: a level of group sums, or backward_finish itself. */
export type FinishStep =
  ({ entry: 'backward_group' } & FinishLevel) | ({ entry: 'backward_finish'; sums: number } & FinishInput);

/**
 * The finishing passes for partial sums of `slices` × `lanes` per channel, and the longest addition
 * chain they make. One backward_finish as before when a channel's partials fit one invocation
 * (FINISH_TERMS), so those shapes keep their order and bits. Otherwise backward_group levels come
 * first: for a per-sample dβ (`chunksPerPlane` slices per plane) within each plane until a plane's
 * partials fit, where dβ is finished, then across planes for dp1 and dp2.
 */
export function finishSteps(
  slices: number,
  lanes: number,
  chunksPerPlane: number,
  perSampleBeta: boolean,
): { steps: FinishStep[]; chain: number } {
  const steps: FinishStep[] = [];
  const levels = (input: FinishInput) => {
    const f = finishLevels(input);
    steps.push(...f.levels.map((l) => ({ entry: 'backward_group' as const, ...l })));
    return f;
  };
  const finish = (sums: number, f: FinishInput) => steps.push({ entry: 'backward_finish', sums, ...f });
  if (!perSampleBeta) {
    const a = levels({ slices, lanes, run: slices });
    finish(FINISH_PARAMS, a.out);
    return { steps, chain: a.chain + a.out.lanes + a.out.slices };
  }
  const a = levels({ slices, lanes, run: chunksPerPlane });
  if (a.out.slices * a.out.lanes <= FINISH_TERMS) {
    finish(FINISH_PARAMS | FINISH_SAMPLE_BETA, a.out);
    return { steps, chain: a.chain + a.out.lanes + a.out.slices };
  }
  finish(FINISH_SAMPLE_BETA, a.out);
  const b = levels({ ...a.out, run: a.out.slices });
  finish(FINISH_PARAMS, b.out);
  // dβ's chain (a.chain + lanes + a plane's slices) is the shorter: b starts where it ends
  return { steps, chain: a.chain + b.chain + b.out.lanes + b.out.slices };
}
