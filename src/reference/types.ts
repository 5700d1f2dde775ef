// The reference side of a declaration: an activation's float64 reference (its reference.ts) and
// float32 bounds (its bounds.ts) bound to the declaration, with the validation report's cases, in
// src/activations/<name>/checks.ts; src/activations/references.ts lists them, one line each. For
// tests, tools and the report only: the library imports nothing of the reference side
// (tests/node/structure.test.ts), and the float64 references themselves import nothing of ours.
import type { DataFormat, Shape4 } from '../core/types';
import type { GpuContext } from '../gpu/context';
import type { AnyActivation, GradsOf, HostOptionsOf, ParamsOf } from '../activations/types';
import type { Deviation } from './tolerance';

/** The parameters as the reference reads them: the declaration's tree of float32 arrays (or any numbers). */
export type RefParams<A> = ParamsOf<A, ArrayLike<number>>;
/** The options as the reference reads them: the activation's own (Meta's training), the data format given. */
export type RefOptions<A> = HostOptionsOf<A> & { dataFormat: DataFormat };

/** A validation-report case: a shape in a data format, and whatever else the activation's data needs (Meta's r). */
export interface ReportCase {
  readonly shape: Shape4;
  readonly dataFormat: DataFormat;
}

/** A case's seeded data: x and dy [N, C, H, W] in the case's data format, the parameters, the calls' options. */
export interface ReportData<A> {
  x: Float32Array;
  dy: Float32Array;
  params: ParamsOf<A>;
  options: RefOptions<A>;
}

/** One comparison with the reference: what was compared, its errors, and the first elements outside their bounds. */
export interface Checked {
  stage: string;
  maxAbs: number;
  maxRel: number;
  /** The largest error as a fraction of its bound (≤ 1 passes). */
  worst: number;
  pass: boolean;
  bad: Deviation[];
}

/** Per-element float32 bounds on the kernels' results against the reference (./tolerance.ts's analysis). */
export interface ReferenceBounds<A> {
  /** On y. */
  forward(x: ArrayLike<number>, shape: Shape4, p: RefParams<A>, o: RefOptions<A>): Float64Array;
  /** On dx and each trainable parameter's gradient, for sums whose longest addition chain is `depth`. */
  backward(
    x: ArrayLike<number>,
    dy: ArrayLike<number>,
    shape: Shape4,
    p: RefParams<A>,
    depth: number,
    o: RefOptions<A>,
  ): GradsOf<A, Float64Array>;
}

export interface ActivationReference<A extends AnyActivation = AnyActivation, C extends ReportCase = ReportCase> {
  readonly activation: A;
  /** y in float64 from the float32 inputs (and whatever else the reference computes on the way). */
  forward(x: ArrayLike<number>, shape: Shape4, p: RefParams<A>, o: RefOptions<A>): { y: Float64Array };
  /** dx and each trainable parameter's gradient, under the declaration's keys, in float64. */
  backward(
    x: ArrayLike<number>,
    dy: ArrayLike<number>,
    shape: Shape4,
    p: RefParams<A>,
    o: RefOptions<A>,
  ): GradsOf<A, Float64Array>;
  /** The generic check's bounds; required unless `report.check` replaces the generic check. */
  readonly bounds?: ReferenceBounds<A>;
  /** The validation report (tools/report/validation.ts). */
  readonly report: {
    readonly cases: readonly C[];
    /** Case number k's seeded data (k counts this activation's cases). */
    data(c: C, k: number): ReportData<A>;
    /**
     * The activation's own check of a case, one report row (`kernel`: its name), instead of the generic
     * rows '<name>.forward' and '<name>.backward' (the host forms against `forward`/`backward` within
     * `bounds`). Meta-ACON's: every stage of the β generator on the GPU's own intermediates.
     */
    check?(ctx: GpuContext, data: ReportData<A>, c: C): Promise<{ kernel: string; checks: Checked[] }>;
  };
}

/** Any activation's reference. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each reference's own case type
export type AnyReference = ActivationReference<AnyActivation, any>;

/** Types a reference against its declaration (the parameter, gradient and option types follow from it). */
export const reference = <A extends AnyActivation, C extends ReportCase>(
  r: ActivationReference<A, C>,
): ActivationReference<A, C> => r;
