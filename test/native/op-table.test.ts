// The op table (src/native/op-table.ts) is the one source of the ops' codes, names and operands:
// the generated C and TypeScript files and ffi/PLAN.md must be what scripts/gen-ops.ts makes of it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { OPS } from '../../src/native/op-table.js';
import { Op, cgroupJoin, exec, hook, mount, user } from '../../src/native/ops.js';
import { repoRoot } from '../helpers/index.js';

t.test('the generated files are up to date with the table', async (t) => {
  const r = spawnSync(join(repoRoot, 'node_modules', '.bin', 'bun'), ['scripts/gen-ops.ts', '--check'], { cwd: repoRoot, encoding: 'utf8' });
  t.equal(r.status, 0, 'gen-ops --check', { stderr: r.stderr });
});

t.test('every op has a code, a C name and a handler entry', async (t) => {
  const c = readFileSync(join(repoRoot, 'ffi', 'init', 'op-table.c'), 'utf8');
  for (const o of OPS) {
    t.equal(Op[o.name as keyof typeof Op], o.code, `Op.${o.name}`);
    t.match(c, `[OP_${o.name}] = "${o.name.toLowerCase()}"`, `op_names has ${o.name}`);
    t.match(c, `[OP_${o.name}] = op_${o.name.toLowerCase()}`, `op_handlers has ${o.name}`);
  }
  t.ok(OPS.some((o) => o.name === 'CGROUP_JOIN'), 'CGROUP_JOIN is in the table (its name was missing from the hand-kept list)');
});

t.test('constructors lay operands out in the table\'s order, with counts filled in', async (t) => {
  t.same(mount({ flags: 1, mkkind: 2, mode: 0o755, source: 's', target: '/t', fstype: 'tmpfs', data: 'd' }, 'w', 2),
    { op: Op.MOUNT, flags: 2, ints: [1, 2, 0o755], strs: ['s', '/t', 'tmpfs', 'd'], what: 'w' });
  t.same(hook({ timeoutS: 5, path: '/h', stdin: '{}', args: ['/h', 'a'], env: ['X=1'] }, 'hook'),
    { op: Op.HOOK, flags: 0, ints: [5, 2, 1], strs: ['/h', '{}', '/h', 'a', 'X=1'], what: 'hook' });
  t.same(exec({ args: ['sh'], env: [] }, 'e').ints, [1, 0]);
  t.same(user({ uid: 1, gid: 2, additionalGids: [3, 4] }, 'u').ints, [1, 2, 3, 4]);
  t.same(cgroupJoin({ fds: [7, 8], paths: ['/a/tasks', '/b/tasks'] }, 'j'), { op: Op.CGROUP_JOIN, flags: 0, ints: [7, 8], strs: ['/a/tasks', '/b/tasks'], what: 'j' });
});
