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

/**
 * An RGB image ([H, W, 3], values 0–255: tf.browser.fromPixels) as the official evaluation feeds it:
 * shorter side resized to 256 (bilinear, half-pixel centres as OpenCV's INTER_LINEAR), centre crop
 * 224 × 224, channels reversed to BGR, float32 0–255. Returns [1, 224, 224, 3] (NHWC).
 */
export function imagenetInput(rgb: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const { resize, crop } = SHUFFLENET_PREPROCESSING;
    const [h, w] = rgb.shape;
    const s = resize / Math.min(h, w);
    const [rh, rw] = [Math.max(crop, Math.round(h * s)), Math.max(crop, Math.round(w * s))];
    const resized = tf.image.resizeBilinear(tf.cast(rgb, 'float32'), [rh, rw], false, true);
    const top = Math.floor((rh - crop) / 2);
    const left = Math.floor((rw - crop) / 2);
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
