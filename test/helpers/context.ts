// Per-test state: a temp dir holding the test's --root dirs and bundles, the
// container ids it made, and a teardown that force-deletes them and removes
// the temp dir (unmounting first anything left mounted inside it, so a leaked
// bind mount can never make the cleanup delete the shared rootfs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { cgroupDirsNamed, testProcesses } from './procscan.js';
import { runtimeName, runtimeUnderTest } from './runtime.js';

export interface TestContext {
  /** The test's temp dir (bundles, per-runtime --root dirs, output files). */
  dir: string;
  /** Container ids made with uniqueId(t). */
  ids: Set<string>;
  /** runtime path -> --root dir used with it. */
  roots: Map<string, string>;
  /** Value of TSRUN_TEST_MARK put into every bundle's process.env (finds the test's processes). */
  mark: string;
  /** Paths whose processes belong to this test (bundles, rootfs copies). */
  paths: Set<string>;
  seq: number;
}

const contexts = new WeakMap<Test, TestContext>();
let idCounter = 0;

export function context(t: Test): TestContext {
  let c = contexts.get(t);
  if (c) return c;
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-test-'));
  c = {
    dir,
    ids: new Set(),
    roots: new Map(),
    mark: `${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    paths: new Set([dir]),
    seq: 0,
  };
  contexts.set(t, c);
  const ctx = c;
  t.teardown(() => cleanup(ctx));
  return c;
}

/** The --root dir this test uses with a runtime (created on first use). */
export function rootFor(t: Test, runtime: string = runtimeUnderTest()): string {
  const c = context(t);
  let r = c.roots.get(runtime);
  if (!r) {
    r = join(c.dir, `root-${runtimeName(runtime)}-${c.roots.size}`);
    mkdirSync(r, { mode: 0o700 });
    c.roots.set(runtime, r);
  }
  return r;
}

/** A fresh container id, registered for force-deletion at teardown. */
export function uniqueId(t: Test, prefix = 'ct'): string {
  const c = context(t);
  const id = `${prefix}-${process.pid.toString(36)}${(++idCounter).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  c.ids.add(id);
  return id;
}

function mountPointsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === dir || mp.startsWith(dir + '/'))) out.push(mp.replace(/\\040/g, ' '));
  }
  return out.sort((a, b) => b.length - a.length);
}

function cleanup(c: TestContext): void {
  for (const [runtime, root] of c.roots) {
    for (const id of c.ids) {
      spawnSync(runtime, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    }
  }
  // A runtime that failed to delete must not leave its containers running into the next test.
  for (const p of testProcesses(c)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of cgroupDirsNamed([...c.ids]).sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(dir);
    } catch {
      // still has tasks, or already gone
    }
  }
  for (const mp of mountPointsUnder(c.dir)) {
    spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  }
  if (mountPointsUnder(c.dir).length === 0) {
    rmSync(c.dir, { recursive: true, force: true });
  } else {
    process.stderr.write(`test cleanup: ${c.dir} still has mounts; left in place\n`);
  }
}
