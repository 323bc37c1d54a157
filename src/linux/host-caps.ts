// Capabilities the host cannot grant: config.md says runtimes SHOULD NOT fail on them (runc drops
// them with a warning). Without a user namespace the container gets at most tsrun's own bounding
// set; in a new or joined user namespace every capability exists (relative to that namespace).
import * as fs from 'node:fs';
import type { Capabilities, Namespace, Process } from '../spec/types.js';
import { capabilityNumber } from '../spec/capabilities.js';

const SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

/** CapBnd of /proc/<pid>/status (default: tsrun itself), or undefined when unreadable. */
export function boundingSetOf(pid: number | 'self' = 'self'): bigint | undefined {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `caps` without the names that are unknown or not in `grantable` (a bounding set; undefined:
 * only unknown names are dropped). `dropped` lists each removed name once.
 */
export function dropUngrantable(caps: Capabilities, grantable: bigint | undefined): { caps: Capabilities; dropped: string[] } {
  const dropped = new Set<string>();
  const out: Capabilities = { ...caps };
  for (const set of SETS) {
    const names = caps[set];
    if (!names) continue;
    out[set] = names.filter((n) => {
      const bit = capabilityNumber(n);
      const ok = bit !== undefined && (grantable === undefined || ((grantable >> BigInt(bit)) & 1n) === 1n);
      if (!ok) dropped.add(n);
      return ok;
    });
  }
  return { caps: out, dropped: [...dropped] };
}

/** `p` without the capabilities it cannot get, each reported to `warn` (not an error). */
export function withGrantableCaps(p: Process, namespaces: readonly Namespace[] | undefined, warn: (m: string) => void): Process {
  if (!p.capabilities) return p;
  const userns = (namespaces ?? []).some((n) => n.type === 'user');
  const { caps, dropped } = dropUngrantable(p.capabilities, userns ? undefined : boundingSetOf());
  if (!dropped.length) return p;
  warn(`ignoring unknown or unavailable capabilities: ${dropped.join(' ')}`);
  return { ...p, capabilities: caps };
}
