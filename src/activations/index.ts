// The registry: one line per activation. Everything generic (AconGPU's methods, host layers, state
// dicts, checkpoints, the tfjs op and layers, the bench) iterates it; see ./registry.ts.
export * from './aconC/declaration';
export * from './metaAconC/declaration';
export * from './aconFRelu/declaration';
