/**
 * PyTorch checkpoints in the browser. `scripts/convert_checkpoint.py` turns a PyTorch state dict
 * (the official train.py's checkpoint, `module.` prefixes stripped) into a safetensors file that
 * keeps PyTorch's tensor names and shapes and records the architecture in its metadata; this module
 * builds that architecture as a tf.layers model and loads the tensors into it.
 *
 * Every layout conversion happens here, in {@link torchToTfjs}:
 *   Conv2d weight [O, I, kh, kw]           → conv2d kernel [kh, kw, I, O]
 *   depthwise Conv2d weight [C, 1, kh, kw] → depthwiseConv2d kernel [kh, kw, C, 1]
 *   Linear weight [O, I]                   → dense kernel [I, O]; after a flatten of an [H, W, C]
 *                                            map, rows reordered from PyTorch's (c, h, w) to (h, w, c)
 *   BatchNorm weight, bias, running_mean, running_var → gamma, beta, moving_mean, moving_variance
 *   AconC / MetaAconC p1, p2, beta [1, C, 1, 1] → [C]; fc1/fc2 weight [O, I, 1, 1] → [O, I]
 * The file is checked whole before anything is allocated (DESIGN.md, "Untrusted input"): the metadata's
 * numbers strictly and within bounds, then every tensor against the state dict those numbers imply,
 * computed arithmetically (torchShapes.ts). A missing, unexpected or wrongly shaped tensor throws a
 * StateDictError naming it, a bad file, metadata or architecture a CheckpointError; whatever a failed
 * build or load created is disposed, so nothing is ever half-loaded or leaked.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { AconError, CheckpointError, OptionError, StateDictError } from '../gpu/errors';
import { seedModel, NET_KINDS, type NetKind } from '../layers/networks';
import type { Impl } from '../layers/common';
import { clip, quote, readSafetensors, shapeText, type Safetensors, type SafetensorsTensor } from './safetensors';
import {
  MODEL_SIZES,
  STAGE_OUT_CHANNELS,
  shuffleNetV2,
  shuffleNetV2TorchShapes,
  stageOutChannels,
  type ModelSize,
  type ShuffleNetV2Options,
} from './shufflenet';
import { seedNetTorchShapes, type TorchShapes } from './torchShapes';
import {
  RESNET_DEPTHS,
  RESNET_MAX_PLANES,
  RESNET_PLANES,
  resNet,
  resNetTorchShapes,
  type ResNetActivation,
  type ResNetDepth,
  type ResNetOptions,
} from './resnet';
import { TFNET_MAX_FIRST, TFNET_SIZES, tfNet, tfNetTorchShapes, type TFNetOptions } from './tfnet';
import { paramLeaves, resolveShape } from '../activations/params';
import { activationOfClass } from '../activations/registry';

export const ARCHITECTURES = [
  'shufflenetv2-acon',
  'shufflenetv2-meta',
  'resnet-acon',
  'resnet-meta',
  'resnet-relu',
  'tfnet',
  ...NET_KINDS,
] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface LoadedCheckpoint {
  model: tfl.LayersModel;
  architecture: Architecture;
  /** The file's metadata (architecture, model_size, stage_out_channels, n_class, depth, planes, num_classes, r, source). */
  metadata: Record<string, string>;
}

/**
 * The largest channel count, class count or r that metadata may give: it keeps the shape arithmetic
 * exact (products < 2^53); the real bound is the file's own tensors, which every width must match.
 */
export const MAX_WIDTH = 1 << 20;

/** What a checkpoint's metadata asks for, checked: ShuffleNetV2's builder options, or a seed net's classes. */
type Spec =
  | { architecture: 'shufflenetv2-acon' | 'shufflenetv2-meta'; options: ShuffleNetV2Options }
  | { architecture: 'resnet-acon' | 'resnet-meta' | 'resnet-relu'; resnet: ResNetOptions }
  | { architecture: 'tfnet'; tfnet: TFNetOptions }
  | { architecture: NetKind; numClasses: number };

const meta = (m: Record<string, string>, key: string): string => {
  const v = m[key];
  if (v === undefined)
    throw new CheckpointError(
      `checkpoint: the metadata has no "${key}" (convert the checkpoint with scripts/convert_checkpoint.py)`,
    );
  return v;
};

/** A count in plain decimal digits, 1 to MAX_WIDTH: no sign, exponent, fraction, hex or spaces. */
const count = (m: Record<string, string>, key: string): number => {
  const v = meta(m, key);
  if (!/^[1-9][0-9]{0,6}$/.test(v) || Number(v) > MAX_WIDTH)
    throw new CheckpointError(
      `checkpoint: metadata "${key}" is not a positive integer (decimal digits, at most ${MAX_WIDTH})`,
      `1 to ${MAX_WIDTH}`,
      quote(v),
    );
  return Number(v);
};

/** stage_out_channels: a JSON list [-1, first, stage2, stage3, stage4, last] the builder accepts. */
function stageChannels(m: Record<string, string>): number[] {
  const text = meta(m, 'stage_out_channels');
  const expected = '[-1, 24, 48, 96, 192, 1024] or similar';
  let s: unknown;
  try {
    s = JSON.parse(text);
  } catch {
    s = undefined;
  }
  const counts =
    Array.isArray(s) &&
    s.length === 6 &&
    s[0] === -1 &&
    s.slice(1).every((c) => Number.isSafeInteger(c) && c >= 1 && c <= MAX_WIDTH);
  if (!counts)
    throw new CheckpointError(
      `checkpoint: metadata "stage_out_channels" is not a JSON list [-1, first, stage2, stage3, stage4, last] of counts up to ${MAX_WIDTH}`,
      expected,
      quote(text),
    );
  try {
    return stageOutChannels({ stageOutChannels: s as number[] });
  } catch (e) {
    if (!(e instanceof OptionError)) throw e;
    throw new CheckpointError(
      'checkpoint: metadata "stage_out_channels" is no ShuffleNetV2 (stage widths divisible by 4, each wider than the one before)',
      expected,
      quote(text),
    );
  }
}

/** The architecture and widths the metadata gives, every value checked and bounded; nothing is built. */
function specOf(m: Record<string, string>): Spec {
  const architecture = meta(m, 'architecture') as Architecture;
  if (!ARCHITECTURES.includes(architecture))
    throw new CheckpointError('checkpoint: unknown architecture', ARCHITECTURES.join(', '), quote(architecture));
  if (architecture === 'tfnet') {
    // the official four, or another size as the converter writes one (Python's str of first / 16: at most
    // 4 decimals) whose first width 16·size is whole, 1 to TFNET_MAX_FIRST
    const size = meta(m, 'model_size');
    const first = /^[0-9]{1,5}\.[0-9]{1,4}$/.test(size) ? 16 * Number(size) : NaN;
    if (!(Number.isInteger(first) && first >= 1 && first <= TFNET_MAX_FIRST))
      throw new CheckpointError(
        'checkpoint: metadata "model_size" is no TFNet width',
        `${TFNET_SIZES.map((v) => v.toFixed(1)).join(', ')} (or a decimal with 16·size a whole number to ${TFNET_MAX_FIRST})`,
        quote(size),
      );
    return { architecture, tfnet: { modelSize: first / 16, numClasses: count(m, 'n_class') } };
  }
  if (architecture === 'resnet-acon' || architecture === 'resnet-meta' || architecture === 'resnet-relu') {
    const depth = meta(m, 'depth');
    if (!RESNET_DEPTHS.map(String).includes(depth))
      throw new CheckpointError(
        'checkpoint: metadata "depth" is no ResNet depth',
        RESNET_DEPTHS.join(', '),
        quote(depth),
      );
    const activation = architecture.slice('resnet-'.length) as ResNetActivation;
    // layer1's planes; files converted before widths other than the official one were read have none
    const planes = m.planes === undefined ? RESNET_PLANES : count(m, 'planes');
    if (planes > RESNET_MAX_PLANES)
      throw new CheckpointError(
        'checkpoint: metadata "planes" is wider than a ResNet may be here (32·planes within the bound)',
        `1 to ${RESNET_MAX_PLANES}`,
        quote(m.planes),
      );
    const resnet: ResNetOptions = {
      depth: Number(depth) as ResNetDepth,
      activation,
      planes,
      numClasses: count(m, 'num_classes'),
      ...(activation === 'meta' ? { r: count(m, 'r') } : {}),
    };
    return { architecture, resnet };
  }
  if (architecture !== 'shufflenetv2-acon' && architecture !== 'shufflenetv2-meta')
    return { architecture, numClasses: count(m, 'num_classes') };
  const activation = architecture === 'shufflenetv2-acon' ? 'acon' : 'meta';
  const size = meta(m, 'model_size');
  const channels = stageChannels(m);
  const official = (MODEL_SIZES as string[]).includes(size);
  if (official && channels.join() !== STAGE_OUT_CHANNELS[size as ModelSize].join())
    throw new CheckpointError(
      `checkpoint: metadata "stage_out_channels" is not model_size ${size}'s`,
      JSON.stringify(STAGE_OUT_CHANNELS[size as ModelSize]),
      quote(m.stage_out_channels),
    );
  const options: ShuffleNetV2Options = {
    activation,
    // an official width by its name (so 2.0× gets its dropout, as the official module), else the list
    ...(official ? { modelSize: size as ModelSize } : { stageOutChannels: channels }),
    numClasses: count(m, 'n_class'),
    ...(activation === 'meta' ? { r: count(m, 'r') } : {}),
  };
  return { architecture, options };
}

const torchShapesFor = (spec: Spec): TorchShapes =>
  'options' in spec
    ? shuffleNetV2TorchShapes(spec.options)
    : 'resnet' in spec
      ? resNetTorchShapes(spec.resnet)
      : 'tfnet' in spec
        ? tfNetTorchShapes(spec.tfnet)
        : seedNetTorchShapes(spec.architecture, spec.numClasses);

const build = (spec: Spec, impl: Impl): tfl.LayersModel =>
  'options' in spec
    ? shuffleNetV2({ ...spec.options, impl })
    : 'resnet' in spec
      ? resNet({ ...spec.resnet, impl })
      : 'tfnet' in spec
        ? tfNet({ ...spec.tfnet, impl })
        : seedModel(spec.architecture, { impl, numClasses: spec.numClasses });

/**
 * Runs `make` (which builds a model, and may load it) so that a failure leaves nothing behind: the
 * tensors it creates are tidied, and when it throws, every variable it created is disposed. An error
 * that is not ours (tfjs's RangeError for an impossible allocation) becomes a CheckpointError.
 */
function allOrNothing<T>(what: string, make: () => T): T {
  const before = new Set(Object.keys(tf.engine().registeredVariables));
  let made: T | undefined;
  try {
    tf.tidy(() => {
      made = make();
    });
    return made!;
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!before.has(name)) v.dispose();
    if (e instanceof AconError) throw e;
    throw new CheckpointError(`checkpoint: could not build ${what} (${clip(String(e), 80)})`);
  }
}

/**
 * The architecture a checkpoint's metadata names, built with random weights. Its numbers are checked
 * and bounded (MAX_WIDTH), but nothing compares them with tensors: for a file from a stranger use
 * {@link loadCheckpoint}, which allocates nothing until the file's tensors fit. Throws CheckpointError
 * and leaves nothing allocated on failure.
 */
export function modelForMetadata(
  metadata: Record<string, string>,
  impl: Impl = 'auto',
): { model: tfl.LayersModel; architecture: Architecture } {
  const spec = specOf(metadata);
  return { model: allOrNothing(spec.architecture, () => build(spec, impl)), architecture: spec.architecture };
}

/** PyTorch module names of the seed networks' layers where they differ from the tf.layers names. */
const TORCH_MODULE: Record<string, string> = { acon_c: 'act', meta_acon_c: 'act' };

/** Our weight name (after the layer's) → PyTorch's parameter name for tf.layers' built-in layers. */
const TORCH_PARAM: Record<string, string> = {
  kernel: 'weight',
  depthwise_kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** One weight of the model: its PyTorch name and shape, and how a PyTorch tensor becomes its value. */
interface TorchWeight {
  key: string;
  torchShape: number[];
  toTfjs: (t: SafetensorsTensor) => tf.Tensor;
}

const permuted = (shape: readonly number[], perm: number[]) => perm.map((i) => shape[i]!);

/** The PyTorch counterpart of every weight of `layer`, in the order of layer.weights. */
function torchToTfjs(layer: tfl.layers.Layer): TorchWeight[] {
  const cls = layer.getClassName();
  const module = TORCH_MODULE[layer.name] ?? layer.name;
  return layer.weights.map((w) => {
    const shape = w.shape as number[];
    const local = w.originalName.slice(layer.name.length + 1); // 'kernel', 'p1', 'fc1.weight', …
    const act = activationOfClass(cls);
    const leaf = act && paramLeaves(act.params).find((l) => l.name === local);
    if (leaf) {
      // the declaration's PyTorch shape (p1 [1, C, 1, 1], fc1.weight [R, C, 1, 1]), dims read off the weight's
      const dims: Record<string, number> = {};
      leaf.decl.shape.forEach((d, i) => typeof d === 'string' && (dims[d] = shape[i]!));
      const torchShape = resolveShape(leaf.decl.torchShape ?? leaf.decl.shape, dims);
      return { key: `${module}.${local}`, torchShape, toTfjs: (t) => tf.tensor(t.data as Float32Array, shape) };
    }
    const param = TORCH_PARAM[local];
    if (param === undefined)
      throw new CheckpointError(`checkpoint: no PyTorch counterpart for weight ${w.originalName} of a ${cls} layer`);
    const key = `${module}.${param}`;
    if (local === 'kernel' && cls === 'Conv2D') {
      const perm = [3, 2, 0, 1]; // [kh, kw, I, O] → [O, I, kh, kw]
      return {
        key,
        torchShape: permuted(shape, perm),
        toTfjs: (t) => tf.transpose(tf.tensor(t.data as Float32Array, t.shape), [2, 3, 1, 0]),
      };
    }
    if (local === 'depthwise_kernel') {
      const perm = [2, 3, 0, 1]; // [kh, kw, C, 1] → [C, 1, kh, kw]
      return {
        key,
        torchShape: permuted(shape, perm),
        toTfjs: (t) => tf.transpose(tf.tensor(t.data as Float32Array, t.shape), [2, 3, 0, 1]),
      };
    }
    if (local === 'kernel' && cls === 'Dense') {
      const [inF, outF] = shape as [number, number];
      const flat = flattenedFrom(layer);
      return {
        key,
        torchShape: [outF, inF],
        toTfjs: (t) =>
          tf.tidy(() => {
            let k: tf.Tensor = tf.tensor2d(t.data as Float32Array, [outF, inF]);
            // PyTorch flattens [C, H, W], tf.layers [H, W, C]: row (c, h, w) moves to (h, w, c)
            if (flat)
              k = tf.reshape(tf.transpose(tf.reshape(k, [outF, flat[2], flat[0], flat[1]]), [0, 2, 3, 1]), [outF, inF]);
            return tf.transpose(k);
          }),
      };
    }
    return { key, torchShape: shape, toTfjs: (t) => tf.tensor(t.data as Float32Array, shape) };
  });
}

/** [H, W, C] when `layer` (a Dense) reads a Flatten of a map with more than one pixel. */
function flattenedFrom(layer: tfl.layers.Layer): [number, number, number] | null {
  const inbound = layer.inboundNodes[0]?.inboundLayers[0];
  if (!inbound || inbound.getClassName() !== 'Flatten') return null;
  const shapes = inbound.inboundNodes[0]!.inputShapes;
  const [, h, w, c] = (Array.isArray(shapes[0]) ? shapes[0] : shapes) as number[];
  return h! * w! > 1 ? [h!, w!, c!] : null;
}

/** The PyTorch name and shape of every weight `model` has, as {@link loadTorchTensors} expects them. */
export function torchShapesOf(model: tfl.LayersModel): TorchShapes {
  return new Map(model.layers.flatMap((layer) => torchToTfjs(layer).map((w) => [w.key, w.torchShape] as const)));
}

/**
 * Compares a file's tensors with the shapes an architecture expects: the same names (a file may add
 * num_batches_tracked next to a batch norm's running_mean), F32, the same shapes, data of that size.
 * Throws a StateDictError naming up to 8 problems (names from the file quoted, cut to ~40 characters).
 */
export function checkTorchTensors(
  expected: ReadonlyMap<string, readonly number[]>,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  what: string,
): void {
  const shown: string[] = [];
  let problems = 0;
  const problem = (text: string) => {
    if (problems++ < 8) shown.push(text);
  };
  for (const [key, shape] of expected) {
    const t = tensors.get(key);
    const size = shape.reduce((a, d) => a * d, 1);
    if (!t) problem(`${key}: missing (expected ${shapeText(shape)})`);
    else if (t.dtype !== 'F32') problem(`${key}: dtype ${t.dtype}, expected F32`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      problem(`${key}: shape ${shapeText(t.shape)}, expected ${shapeText(shape)}`);
    else if (t.data.length !== size) problem(`${key}: ${t.data.length} values for shape ${shapeText(shape)}`);
  }
  const batchesTracked = '.num_batches_tracked';
  for (const key of tensors.keys()) {
    const tracked =
      key.endsWith(batchesTracked) && expected.has(`${key.slice(0, -batchesTracked.length)}.running_mean`);
    if (!expected.has(key) && !tracked) problem(`${quote(key)}: unexpected (no such weight in ${what})`);
  }
  if (problems > 0) {
    const more = problems > 8 ? `; and ${problems - 8} more` : '';
    throw new StateDictError(`checkpoint: ${problems} tensor(s) do not fit ${what}: ${shown.join('; ')}${more}`);
  }
}

/**
 * Loads PyTorch-named tensors into `model`: all checked first ({@link checkTorchTensors}), all converted,
 * then set, so a failure leaves the model as it was.
 */
export function loadTorchTensors(model: tfl.LayersModel, tensors: ReadonlyMap<string, SafetensorsTensor>): void {
  const plan = model.layers.map((layer) => ({ layer, weights: torchToTfjs(layer) }));
  checkTorchTensors(
    new Map(plan.flatMap(({ weights }) => weights.map((w) => [w.key, w.torchShape]))),
    tensors,
    model.name,
  );
  tf.tidy(() => {
    const values = plan.map(({ weights }) => weights.map((w) => w.toTfjs(tensors.get(w.key)!)));
    plan.forEach(({ layer }, i) => {
      if (values[i]!.length > 0) layer.setWeights(values[i]!);
    });
  });
}

/**
 * Reads a converted checkpoint (the bytes of a .safetensors file from scripts/convert_checkpoint.py),
 * builds its architecture and loads its weights. For a file from a stranger: the reader enforces the
 * format; the metadata's numbers are parsed strictly; the state dict the metadata implies is computed
 * arithmetically and compared with the file's tensors before anything is allocated, so the model has
 * exactly the file's sizes; the build and load dispose all they made if anything throws. Throws
 * CheckpointError / StateDictError, leaving tf.memory() as it was.
 */
export function loadCheckpoint(
  file: ArrayBuffer | Uint8Array | Safetensors,
  options: { impl?: Impl } = {},
): LoadedCheckpoint {
  const st = 'tensors' in file ? file : readSafetensors(file);
  const format = st.metadata.format;
  if (format !== 'acon-webgpu/1')
    throw new CheckpointError(
      'checkpoint: not a converted checkpoint (metadata "format")',
      '"acon-webgpu/1" (scripts/convert_checkpoint.py writes it)',
      quote(format),
    );
  const spec = specOf(st.metadata);
  checkTorchTensors(torchShapesFor(spec), st.tensors, spec.architecture);
  const model = allOrNothing(spec.architecture, () => {
    const built = build(spec, options.impl ?? 'auto');
    loadTorchTensors(built, st.tensors);
    return built;
  });
  return { model, architecture: spec.architecture, metadata: st.metadata };
}
