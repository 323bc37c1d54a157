// linux.memoryPolicy -> a MEMPOLICY op: set_mempolicy(2) in tsrun-init before the exec, so the
// container process and its children allocate from the nodes given.
import type { PlanOp } from '../native/plan.js';
import { Op } from '../native/ops.js';

const MODES: Record<string, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

const FLAGS: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
};

/** "0-3,7" -> 64-bit words of a node mask. */
export function nodeMask(list: string): bigint[] {
  const words: bigint[] = [];
  for (const part of list.split(',')) {
    const s = part.trim();
    if (!s) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw new Error(`linux.memoryPolicy.nodes: invalid node list "${list}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= 4096) throw new Error(`linux.memoryPolicy.nodes: invalid node list "${list}"`);
    for (let n = a; n <= b; n++) {
      const w = n >> 6;
      while (words.length <= w) words.push(0n);
      words[w] = words[w]! | (1n << BigInt(n & 63));
    }
  }
  return words;
}

export function planMemoryPolicy(mp: { mode: string; nodes?: string; flags?: string[] } | undefined): PlanOp[] {
  if (!mp) return [];
  const mode = MODES[mp.mode];
  if (mode === undefined) throw new Error(`linux.memoryPolicy.mode: unknown mode ${mp.mode}`);
  let flags = 0;
  for (const f of mp.flags ?? []) {
    const v = FLAGS[f];
    if (v === undefined) throw new Error(`linux.memoryPolicy.flags: unknown flag ${f}`);
    flags |= v;
  }
  const words = nodeMask(mp.nodes ?? '');
  const what = `set the memory policy ${mp.mode}${mp.nodes ? ` on nodes ${mp.nodes}` : ''}`;
  // signed 64-bit in the plan: a mask word with bit 63 set is negative, the same bits in C
  return [{ op: Op.MEMPOLICY, ints: [mode | flags, ...words.map((w) => BigInt.asIntN(64, w))], what }];
}
