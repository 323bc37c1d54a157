// linux.memoryPolicy -> a MEMPOLICY op: set_mempolicy(2) in tsrun-init before the exec, so the
// container process and its children allocate from the nodes given.
import type { PlanOp } from '../native/plan.js';
import { Op } from '../native/ops.js';
import { parseIdList } from '../spec/semantics.js';

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

/** "0-3,7" -> 64-bit words of a node mask (the list was judged: src/spec/memory-nodes.ts). */
export function nodeMask(list: string): bigint[] {
  const words: bigint[] = [];
  for (const n of parseIdList(list)!) {
    const w = n >> 6;
    while (words.length <= w) words.push(0n);
    words[w] = words[w]! | (1n << BigInt(n & 63));
  }
  return words;
}

export function planMemoryPolicy(mp: { mode: string; nodes?: string; flags?: string[] } | undefined): PlanOp[] {
  if (!mp) return [];
  // mode and flags: the schema's enums
  let flags = MODES[mp.mode]!;
  for (const f of mp.flags ?? []) flags |= FLAGS[f]!;
  const words = nodeMask(mp.nodes ?? '');
  const what = `set the memory policy ${mp.mode}${mp.nodes ? ` on nodes ${mp.nodes}` : ''}`;
  // signed 64-bit in the plan: a mask word with bit 63 set is negative, the same bits in C
  return [{ op: Op.MEMPOLICY, ints: [flags, ...words.map((w) => BigInt.asIntN(64, w))], what }];
}
