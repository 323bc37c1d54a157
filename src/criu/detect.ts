// Whether CRIU works here (for `features`): criu is found and `criu check` passes on this
// kernel. One run per tsrun invocation, bounded; a missing or broken criu is simply "no".
import { spawnSync } from 'node:child_process';
import { findCriu } from './swrk.js';

let cached: { ok: boolean; why: string } | undefined;

export function criuWorks(name?: string): { ok: boolean; why: string } {
  if (cached) return cached;
  let criu: string;
  try {
    criu = findCriu(name);
  } catch (e) {
    return (cached = { ok: false, why: (e as Error).message });
  }
  // The log to stderr: a log-file in /etc/criu/default.conf would otherwise land in our cwd.
  const r = spawnSync(criu, ['check', '-o', '/dev/stderr'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status === 0) return (cached = { ok: true, why: '' });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).pop();
  return (cached = { ok: false, why: said || (r.error ? r.error.message : `criu check: exit status ${r.status}`) });
}
