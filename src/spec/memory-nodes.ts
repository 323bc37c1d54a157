// linux.memoryPolicy.nodes beyond its syntax (semantics.ts): tsrun-init's node mask holds nodes
// 0-4095 (MAX_NUMNODES of the largest kernel configurations).
import { parseIdList } from './semantics.js';
import type { Spec } from './types.js';

export const MAX_NUMA_NODES = 4096;

/** The problem with the memory policy's nodes, worded as the whole line. */
export function memoryNodesProblem(spec: Spec): string | undefined {
  const list = spec.linux?.memoryPolicy?.nodes;
  if (list === undefined) return undefined;
  const nodes = parseIdList(list);
  return nodes === null || nodes.some((n) => n >= MAX_NUMA_NODES) ? `linux.memoryPolicy.nodes: invalid node list "${list}"` : undefined;
}
