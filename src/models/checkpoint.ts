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
 * The file is checked whole before any weight is set: a missing, unexpected or wrongly shaped tensor
 * throws a StateDictError naming it, a bad file or an unknown architecture a CheckpointError, and the
 * model built for it is disposed, so nothing is ever half-loaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CheckpointError, StateDictError } from '../gpu/errors';
import { seedModel, NET_KINDS, type NetKind } from '../layers/networks';
import type { Impl } from '../layers/common';
import { readSafetensors, type Safetensors, type SafetensorsTensor } from './safetensors';
import { MODEL_SIZES, STAGE_OUT_CHANNELS, shuffleNetV2, type ModelSize } from './shufflenet';

export const ARCHITECTURES = ['shufflenetv2-acon', 'shufflenetv2-meta', ...NET_KINDS] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface LoadedCheckpoint {
  model: tfl.LayersModel;
  architecture: Architecture;
  /** The file's metadata (architecture, model_size, stage_out_channels, n_class, r, source). */
  metadata: Record<string, string>;
}

const meta = (m: Record<string, string>, key: string): string => {
  const v = m[key];
  if (v === undefined)
    throw new CheckpointError(
      `checkpoint: the metadata has no "${key}" (convert the checkpoint with scripts/convert_checkpoint.py)`,
    );
  return v;
};

const integer = (m: Record<string, string>, key: string): number => {
  const v = Number(meta(m, key));
  if (!Number.isInteger(v) || v < 1)
    throw new CheckpointError(
      `checkpoint: metadata "${key}" is not a positive integer`,
      'a positive integer',
      JSON.stringify(m[key]),
    );
  return v;
};

/** The architecture a checkpoint's metadata names, built with random weights. */
export function modelForMetadata(
  metadata: Record<string, string>,
  impl: Impl = 'auto',
): { model: tfl.LayersModel; architecture: Architecture } {
  const architecture = meta(metadata, 'architecture') as Architecture;
  if (!ARCHITECTURES.includes(architecture))
    throw new CheckpointError(
      'checkpoint: unknown architecture',
      ARCHITECTURES.join(', '),
      JSON.stringify(architecture),
    );
  if (architecture === 'shufflenetv2-acon' || architecture === 'shufflenetv2-meta') {
    const size = meta(metadata, 'model_size');
    let stageOutChannels: unknown;
    try {
      stageOutChannels = JSON.parse(meta(metadata, 'stage_out_channels'));
    } catch {
      stageOutChannels = undefined;
    }
    if (!Array.isArray(stageOutChannels) || !stageOutChannels.every((v) => Number.isInteger(v))) {
      throw new CheckpointError(
        'checkpoint: metadata "stage_out_channels" is not a JSON list of integers',
        '[-1, 24, 48, 96, 192, 1024] or similar',
        JSON.stringify(metadata.stage_out_channels),
      );
    }
    const official = (MODEL_SIZES as string[]).includes(size);
    if (official && stageOutChannels.join() !== STAGE_OUT_CHANNELS[size as ModelSize].join()) {
      throw new CheckpointError(
        `checkpoint: metadata "stage_out_channels" is not model_size ${size}'s`,
        JSON.stringify(STAGE_OUT_CHANNELS[size as ModelSize]),
        JSON.stringify(stageOutChannels),
      );
    }
    const model = shuffleNetV2({
      activation: architecture === 'shufflenetv2-acon' ? 'acon' : 'meta',
      // an official width by its name (so 2.0× gets its dropout, as the official module), else the list
      ...(official ? { modelSize: size as ModelSize } : { stageOutChannels: stageOutChannels as number[] }),
      numClasses: integer(metadata, 'n_class'),
      ...(architecture === 'shufflenetv2-meta' ? { r: integer(metadata, 'r') } : {}),
      impl,
    });
    return { model, architecture };
  }
  return {
    model: seedModel(architecture as NetKind, { impl, numClasses: integer(metadata, 'num_classes') }),
    architecture,
  };
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
    if (cls === 'AconC' || cls === 'MetaAconC') {
      // p1, p2, beta are [1, C, 1, 1] in PyTorch; the β generator's 1×1 convs [O, I, 1, 1]
      const torchShape =
        shape.length === 1 && /^(p1|p2|beta)$/.test(local)
          ? [1, shape[0]!, 1, 1]
          : shape.length === 2
            ? [...shape, 1, 1]
            : shape;
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

/** Loads PyTorch-named tensors into `model`; all checked first (StateDictError naming each problem). */
export function loadTorchTensors(model: tfl.LayersModel, tensors: Map<string, SafetensorsTensor>): void {
  const plan = model.layers.map((layer) => ({ layer, weights: torchToTfjs(layer) }));
  const problems: string[] = [];
  const used = new Set<string>();
  for (const { weights } of plan) {
    for (const w of weights) {
      used.add(w.key);
      const t = tensors.get(w.key);
      if (!t) problems.push(`${w.key}: missing (expected [${w.torchShape.join(', ')}])`);
      else if (t.dtype !== 'F32') problems.push(`${w.key}: dtype ${t.dtype}, expected F32`);
      else if (t.shape.join(',') !== w.torchShape.join(','))
        problems.push(`${w.key}: shape [${t.shape.join(', ')}], expected [${w.torchShape.join(', ')}]`);
    }
  }
  for (const key of tensors.keys())
    if (!used.has(key) && !key.endsWith('num_batches_tracked'))
      problems.push(`${key}: unexpected (no such weight in ${model.name})`);
  if (problems.length > 0) {
    const list = problems.slice(0, 8).join('; ') + (problems.length > 8 ? `; and ${problems.length - 8} more` : '');
    throw new StateDictError(`checkpoint: ${problems.length} tensor(s) do not fit ${model.name}: ${list}`);
  }
  tf.tidy(() => {
    for (const { layer, weights } of plan)
      if (weights.length > 0) layer.setWeights(weights.map((w) => w.toTfjs(tensors.get(w.key)!)));
  });
}

/**
 * Reads a converted checkpoint (the bytes of a .safetensors file from scripts/convert_checkpoint.py),
 * builds its architecture and loads its weights. Throws CheckpointError / StateDictError and leaves
 * nothing allocated when the file does not fit.
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
      JSON.stringify(format),
    );
  const { model, architecture } = modelForMetadata(st.metadata, options.impl);
  try {
    loadTorchTensors(model, st.tensors);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, architecture, metadata: st.metadata };
}
