import { LimitError } from './errors';
/**
 * Folds a linear workgroup count into a 2D grid [x, y] with x, y ≤ maxPerDimension and x·y ≥ count.
 * Shaders recover the linear index as wid.x + wid.y·num_workgroups.x and skip indices ≥ count; the
 * surplus is under one row (fewer than x workgroups).
 */
export function foldGrid(count: number, maxPerDimension: number): [number, number] {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`workgroup count must be a positive integer, got ${count}`);
  if (count <= maxPerDimension) return [count, 1];
  const y = Math.ceil(count / maxPerDimension);
  if (y > maxPerDimension)
    throw new LimitError(
      `a dispatch of ${count} workgroups does not fit the device's grid`,
      `at most ${maxPerDimension}² workgroups (maxComputeWorkgroupsPerDimension ${maxPerDimension})`,
      `${count}`,
    );
  return [Math.ceil(count / y), y];
}
