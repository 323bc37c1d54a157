// After an engine removed a container: did the runtime leave anything of it?
// Looks only for what names the container's id (other tests, other engines'
// containers may run on the host at the same time): the runtime's state dir
// under the --root the engine passes, cgroups, mounts, processes.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { cgroupDirsNamed } from '../../helpers/procscan.js';

export interface EngineLeaks {
  state: string[];
  cgroups: string[];
  mounts: string[];
  processes: string[];
}

function read(p: string): string {
  try {
    return readFileSync(p, 'latin1');
  } catch {
    return '';
  }
}

/** Live processes whose command line or cgroup names the id. */
export function processesNaming(id: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const stat = read(`/proc/${e}/stat`);
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (!stat || state === 'Z' || state === 'X') continue;
    const cmdline = read(`/proc/${e}/cmdline`).split('\0').join(' ').trim();
    const cg = read(`/proc/${e}/cgroup`);
    if (cmdline.includes(id) || cg.includes(id)) out.push(`pid ${e}: ${cmdline || '(no cmdline)'}${cg.includes(id) ? ' (in its cgroup)' : ''}`);
  }
  return out;
}

export function findLeaks(id: string, stateDirs: string[]): EngineLeaks {
  return {
    state: stateDirs.map((d) => join(d, id)).filter((p) => existsSync(p)),
    cgroups: cgroupDirsNamed([id]),
    mounts: read('/proc/self/mountinfo').split('\n').filter((l) => l.includes(id)),
    processes: processesNaming(id),
  };
}

const empty = (l: EngineLeaks) => l.state.length + l.cgroups.length + l.mounts.length + l.processes.length === 0;

/**
 * Asserts that nothing of container `id` is left. Engines finish removal
 * asynchronously (podman's cleanup process, the shim exiting), so the check is
 * repeated for up to `settleMs` before it fails.
 */
export async function assertNoLeaks(t: Test, id: string, stateDirs: string[], settleMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + settleMs;
  let leaks = findLeaks(id, stateDirs);
  while (!empty(leaks) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    leaks = findLeaks(id, stateDirs);
  }
  const short = id.slice(0, 12);
  t.same(leaks.state, [], `no runtime state of ${short} left (under ${stateDirs.join(', ')})`);
  t.same(leaks.cgroups, [], `no cgroup of ${short} left`);
  t.same(leaks.mounts, [], `no mount naming ${short} left`);
  t.same(leaks.processes, [], `no process of ${short} left`);
  return empty(leaks);
}
