// The reference registry: one line per activation (its float64 reference, bounds and report cases,
// src/reference/types.ts's ActivationReference). Tests, tools and the report iterate it; the library
// never imports it (tests/node/structure.test.ts).
export { aconCReference as aconC } from './aconC/checks';
export { metaAconCReference as metaAconC } from './metaAconC/checks';
export { aconFReluReference as aconFReLU } from './aconFRelu/checks';
