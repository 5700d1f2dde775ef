/**
 * How many loop iterations one shader invocation may run, and how the finishing passes stay within it.
 *
 * Mesa's lavapipe (llvmpipe's Vulkan driver; measured with Mesa 22.3, "llvmpipe (LLVM 15.0.6, 256
 * bits)", Debian 12) counts the iterations of all the loops of an invocation against one limit of
 * 65,535 and, once it is spent, makes every loop exit after its current iteration, silently: a
 * one-invocation `for (i < 70000) c++` ends with c = 65,535; two loops of 40,000 in a row end with
 * 65,534 (the first spends 40,001, its exit test included), and a loop nested after them runs once.
 * Firefox and Deno (wgpu) take lavapipe as their adapter on a Linux machine without a GPU, so an
 * invocation that loops more computes wrong numbers there without any error (our backward's dp1, dp2
 * for NHWC [70000, 4, 1, 1] with a per-sample β did). SwiftShader and GPUs have no such limit, but
 * one invocation looping that long is slow on a GPU anyway.
 *
 * So every plan keeps every invocation within LOOP_BUDGET, counted as lavapipe counts: a loop of k
 * iterations costs k + 1, nested loops their inner loops in full, and since lavapipe runs 8
 * invocations in one SIMD vector whose loops run as long as their longest lane, each loop is
 * counted at its worst over the invocations (tests/node/kernels.test.ts checks every dispatch a
 * plan records). Half the cap: a margin for loops a compiler adds and for counting slips. Shapes
 * that would need more are refused with a LimitError rather than computed wrong.
 */
export const LAVAPIPE_LOOP_CAP = 65_535;
export const LOOP_BUDGET = Math.floor(LAVAPIPE_LOOP_CAP / 2);

/**
 * Terms one invocation of a finishing pass sums per reduction (acon_c.wgsl's backward_finish and
 * backward_group, reduce.wgsl's plane_means and plane_groups). Partial sums beyond it are first
 * summed in groups by extra passes, one level per factor of about FINISH_TERMS (two levels reach
 * 16 million partials per channel). A reduction of s slices of l lanes loops s·(l + 1) + 1 times
 * (sumTrips), so at most 2·FINISH_TERMS + 1, and backward_finish's two 4·FINISH_TERMS + 2 = 16,386.
 */
export const FINISH_TERMS = 4096;

/**
 * One level of a hierarchical finish: runs of `run` consecutive slices (a plane's chunks when sums
 * per plane are wanted, else all the slices of a channel), each run cut into groups of `group`
 * slices of `lanes` partials; each group's sum becomes one partial (lanes 1) of the next level,
 * whose runs are then ⌈run / group⌉ slices long.
 */
export interface FinishLevel {
  slices: number;
  lanes: number;
  run: number;
  group: number;
}

/** Partial sums per channel (or per plane) as a finishing pass sees them: slices × lanes, in runs of `run`. */
export interface FinishInput {
  slices: number;
  lanes: number;
  run: number;
}

/**
 * The group levels that bring a run's terms (run·lanes) within FINISH_TERMS, none when they already
 * are (the finishing pass then sums exactly as it always did: the same order, the same bits).
 * `chain` is the longest chain of additions the levels add (lanes, then slices, per level).
 */
export function finishLevels(input: FinishInput): { levels: FinishLevel[]; out: FinishInput; chain: number } {
  const levels: FinishLevel[] = [];
  let { slices, lanes, run } = input;
  let chain = 0;
  while (run * lanes > FINISH_TERMS) {
    const group = Math.max(1, Math.floor(FINISH_TERMS / lanes));
    levels.push({ slices, lanes, run, group });
    chain += lanes + Math.min(group, run);
    const groups = Math.ceil(run / group);
    slices = (slices / run) * groups;
    run = groups;
    lanes = 1;
  }
  return { levels, out: { slices, lanes, run }, chain };
}

/** Loop trips, counted as lavapipe counts them: a loop of k iterations costs k + 1. */
export const loopTrips = (k: number) => k + 1;
/** Trips of a finishing sum over `slices` slices of `lanes` partials (a loop over lanes in a loop over slices). */
export const sumTrips = (slices: number, lanes: number) => slices * loopTrips(lanes) + 1;

/** Groups (slices of the next level) a level makes. */
export const levelGroups = (l: FinishLevel) => (l.slices / l.run) * Math.ceil(l.run / l.group);
