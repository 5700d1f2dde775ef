import type { Plugin } from 'vite';
export const FASHION_MNIST_DIR: string;
/**
 * Serves Debian's Fashion-MNIST files at /datasets/fashion-mnist/<file> in the dev server and in
 * `vite preview`, from `dir` (FASHION_MNIST_DIR by default).
 */
export function datasets(options?: { dir?: string }): Plugin;
