// The leak checker: what a test's containers may not leave on the host once
// they are deleted (or once a create failed): state under --root, processes,
// mounts, cgroups.
import { readFileSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { context, type TestContext } from './context.js';
import { cgroupDirsNamed, listProcesses, testProcesses, type ProcInfo } from './procscan.js';

export interface HostSnapshot {
  processes: Map<number, ProcInfo>;
  mounts: Set<string>;
  cgroups: Set<string>;
}

export interface Leaks {
  rootEntries: string[];
  processes: string[];
  mounts: string[];
  cgroups: string[];
}

function mountLines(): Set<string> {
  return new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l !== ''));
}

/** Take before the test makes containers; pass to assertNoLeaks. */
export function snapshotHost(t: Test): HostSnapshot {
  const c = context(t);
  return { processes: listProcesses(), mounts: mountLines(), cgroups: new Set(cgroupDirsNamed([...c.ids])) };
}

export function findLeaks(c: TestContext, before: HostSnapshot): Leaks {
  const rootEntries: string[] = [];
  const list = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a root the runtime removed itself is empty enough
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      rootEntries.push(e.isDirectory() ? p + '/' : p);
      if (e.isDirectory()) list(p);
    }
  };
  for (const root of c.roots.values()) list(root);
  const processes = testProcesses(c, before.processes).map((p) => `pid ${p.pid} "${p.cmdline}" (${p.why})`);
  const mounts = [...mountLines()].filter((l) => !before.mounts.has(l));
  const cgroups = cgroupDirsNamed([...c.ids]).filter((d) => !before.cgroups.has(d));
  return { rootEntries, processes, mounts, cgroups };
}

function clean(l: Leaks): boolean {
  return l.rootEntries.length + l.processes.length + l.mounts.length + l.cgroups.length === 0;
}

/**
 * Asserts that nothing this test made is left: the --root dirs are empty, no
 * process of the test's containers remains, no mount and no cgroup named after
 * its ids appeared. A process killed by the runtime takes a moment to exit, so
 * while leftover processes are the only finding the check is repeated for up
 * to `settleMs` (default 2 s) before it fails.
 */
export async function assertNoLeaks(t: Test, before: HostSnapshot, opts: { settleMs?: number } = {}): Promise<boolean> {
  const c = context(t);
  const deadline = Date.now() + (opts.settleMs ?? 2000);
  let leaks = findLeaks(c, before);
  const onlyProcesses = (l: Leaks) => l.processes.length > 0 && l.rootEntries.length + l.mounts.length + l.cgroups.length === 0;
  while (onlyProcesses(leaks) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    leaks = findLeaks(c, before);
  }
  t.same(leaks.rootEntries, [], 'nothing left under --root');
  t.same(leaks.processes, [], 'no process left');
  t.same(leaks.mounts, [], 'no mount left');
  t.same(leaks.cgroups, [], 'no cgroup left');
  return clean(leaks);
}
