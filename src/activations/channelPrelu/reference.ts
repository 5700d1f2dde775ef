/**
 * CPU reference for per-channel PReLU: plain loops in float64 from the float32 inputs. Imports nothing
 * of ours; ./checks.ts binds it to the declaration for tests and the report.
 *   y = x (x ≥ 0), w[c]·x (x < 0);  ∂y/∂x = 1 or w[c];  ∂y/∂w[c] = Σ over N, H, W of dy·x where x < 0.
 */
export type DataFormat = 'NCHW' | 'NHWC';
export type Shape4 = readonly [number, number, number, number];

/** The channel of every element of a [N, C, H, W] tensor in a data format. */
export function channelOf([, C, H, W]: Shape4, f: DataFormat): (i: number) => number {
  return f === 'NCHW' ? (i) => Math.floor(i / (H * W)) % C : (i) => i % C;
}

export function preluForwardRef(
  x: ArrayLike<number>,
  shape: Shape4,
  p: { weight: ArrayLike<number> },
  f: DataFormat,
): Float64Array {
  const c = channelOf(shape, f);
  return Float64Array.from({ length: x.length }, (_, i) => (x[i]! >= 0 ? x[i]! : p.weight[c(i)]! * x[i]!));
}

export function preluBackwardRef(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Shape4,
  p: { weight: ArrayLike<number> },
  f: DataFormat,
): { dx: Float64Array; weight: Float64Array } {
  const c = channelOf(shape, f);
  const dx = new Float64Array(x.length);
  const weight = new Float64Array(shape[1]);
  for (let i = 0; i < x.length; i++) {
    const negative = x[i]! < 0;
    dx[i] = negative ? p.weight[c(i)]! * dy[i]! : dy[i]!;
    if (negative) weight[c(i)] += dy[i]! * x[i]!;
  }
  return { dx, weight };
}
