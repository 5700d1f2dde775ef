// The PyTorch checkpoint converter's own tests (scripts/test_convert.py, Python's unittest), run here so
// that `npm test` covers the converter: its conversions, and its refusals of hostile checkpoints
// (TorchScript code, pickled calls, stride-0 expansions, huge claimed widths, pickle bombs, damaged
// files), each refused with exit status 2, running nothing from the file, fast and in little memory.
// They need Debian's PyTorch (python3-torch) for Debian's interpreter, which setup installs as root.
import { expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) {
  console.warn(
    `tests/node/converter.test.ts skipped: ${PYTHON} cannot import torch ` +
      '(apt-get install python3-torch as root; scripts/ensure-setup.mjs does it)',
  );
}

/** The tests of hostile files: each must have run and passed. */
const SECURITY_TESTS = [
  'test_torchscript_archive_is_refused_not_run',
  'test_pickled_call_is_refused_not_run',
  'test_pickled_objects_need_trust',
  'test_stride_0_expansions',
  'test_tensors_sharing_a_storage',
  'test_huge_widths_in_small_tensors',
  'test_damaged_files',
  'test_pickle_bombs',
  'test_reduce_splats',
  'test_reduce_arities',
  'test_zip_directory_bombs',
  'test_long_pickles',
  'test_strides_that_play_no_part',
  'test_widths_the_loader_refuses',
  'test_names_are_escaped',
];
const TIMEOUT_MS = 400_000; // about 90 s on two busy cores

test.skipIf(!hasTorch)(
  'scripts/test_convert.py passes, its hostile-checkpoint tests included',
  () => {
    const r = spawnSync(PYTHON, ['scripts/test_convert.py', '-v'], {
      cwd: root,
      encoding: 'utf8',
      timeout: TIMEOUT_MS,
    });
    const text = r.stdout + r.stderr; // unittest reports on stderr
    expect(r.status, text).toBe(0);
    expect(text).toMatch(/^OK$/m);
    // verbose lines: "test_name (__main__.ConvertTest.test_name)", the docstring's first line if any, "... ok"
    const passed = [...text.matchAll(/^(test_\w+) \([\w.]+\)(?:\n[^\n]*)? \.\.\. ok$/gm)].map((m) => m[1]);
    for (const name of SECURITY_TESTS) expect(passed, text).toContain(name);
  },
  TIMEOUT_MS,
);
