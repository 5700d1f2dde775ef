// The registered activations as a list and a union type, and lookups into them.
import * as REGISTRY from './index';
import type { AnyActivation } from './types';

/** Every registered declaration (a type: the union of their literal types). */
export type Registered = Extract<(typeof REGISTRY)[keyof typeof REGISTRY], AnyActivation>;
/** The declaration of a name: ByName<'aconC'> is typeof aconC. */
export type ByName<K extends string> = Extract<Registered, { name: K }>;

const isActivation = (v: unknown): v is Registered =>
  typeof v === 'object' && v !== null && 'kernels' in v && 'params' in v && 'name' in v;

/** The declarations, in the registry's order. */
export const ACTIVATIONS: readonly Registered[] = Object.values(REGISTRY).filter(isActivation);

const byClass = new Map<string, Registered>(ACTIVATIONS.map((a) => [a.layer.className, a]));

/** The declaration whose layers have this class name ('AconC', 'MetaAconC'), if any. */
export const activationOfClass = (className: string): Registered | undefined => byClass.get(className);
