/**
 * The 1000 ImageNet-1k class names in the order of the official models' logits (index 0 "tench",
 * 999 "toilet tissue"), from @tensorflow-models/mobilenet 2.1.1 (dist/imagenet_classes.js, Apache-2.0,
 * Copyright 2019 Google LLC), the order torchvision's ImageFolder gives the ILSVRC-2012 synsets.
 */
import * as tf from '@tensorflow/tfjs-core';
import labels from './imagenet-labels.json';

export const IMAGENET_LABELS: readonly string[] = labels;

/**
 * The official evaluation's preprocessing (train.py: OpencvResize(256), CenterCrop(224), ToBGRTensor),
 * the same in all three families' train.py: ShuffleNetV2, ResNet and TFNet.
 */
export const SHUFFLENET_PREPROCESSING = {
  /** Shorter side resized to this, then the centre cropped to `crop` × `crop`. */
  resize: 256,
  crop: 224,
  /** Channels in BGR order, values 0–255, no mean/std normalisation (ToBGRTensor). */
  channels: 'BGR',
  scale: 255,
} as const;

/** Python's round(): halves to the even neighbour (round(59.5) = 60, round(60.5) = 60). */
function pythonRound(v: number): number {
  const f = Math.floor(v);
  return v - f > 0.5 || (v - f === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/**
 * Where the official evaluation takes its crop of an h × w image (train.py): OpencvResize(256) resizes
 * to rh × rw, the shorter side 256 and the longer int(256/short·long + 0.5) (a square to 256 × 256),
 * then torchvision's CenterCrop(224) starts at int(round((side − 224)/2)), Python's round taking
 * halves to even (a 343-row image: 59.5 → row 60).
 */
export function imagenetCrop(h: number, w: number): { rh: number; rw: number; top: number; left: number } {
  const { resize, crop } = SHUFFLENET_PREPROCESSING;
  const [rh, rw] = h < w ? [resize, Math.floor((resize / h) * w + 0.5)] : [Math.floor((resize / w) * h + 0.5), resize];
  return { rh, rw, top: pythonRound((rh - crop) / 2), left: pythonRound((rw - crop) / 2) };
}

/**
 * An RGB image ([H, W, 3], values 0–255: tf.browser.fromPixels) as the official evaluation feeds it:
 * resized as imagenetCrop says (bilinear with half-pixel centres, as OpenCV's INTER_LINEAR, and
 * rounded to whole levels as its uint8 output is; OpenCV's 11-bit fixed-point weights may put a
 * value one level off), the centre 224 × 224 cropped, channels reversed to BGR, float32 0–255.
 * Returns [1, 224, 224, 3] (NHWC).
 */
export function imagenetInput(rgb: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const { crop } = SHUFFLENET_PREPROCESSING;
    const { rh, rw, top, left } = imagenetCrop(rgb.shape[0], rgb.shape[1]);
    const resized = tf.round(tf.image.resizeBilinear(tf.cast(rgb, 'float32'), [rh, rw], false, true));
    const cropped = tf.slice(resized, [top, left, 0], [crop, crop, 3]);
    return tf.expandDims(tf.reverse(cropped, -1), 0) as tf.Tensor4D;
  });
}

/** The k most probable classes of one row of logits (softmax), most probable first. */
export async function topK(logits: tf.Tensor, k = 5): Promise<{ index: number; label: string; probability: number }[]> {
  const probs = tf.tidy(() => tf.softmax(tf.reshape(logits, [-1])));
  const p = (await probs.data()) as Float32Array;
  probs.dispose();
  return [...p.keys()]
    .sort((a, b) => p[b]! - p[a]!)
    .slice(0, k)
    .map((index) => ({ index, label: IMAGENET_LABELS[index] ?? `class ${index}`, probability: p[index]! }));
}
