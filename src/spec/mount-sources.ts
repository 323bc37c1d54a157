// Bind mounts against this host: the source must exist, and an idmapped one (idmap/ridmap) needs
// the mount's own uidMappings and gidMappings (tsrun makes the user namespace that carries them;
// it does not borrow the container's).
import { posix, resolve } from 'node:path';
import type { HostFacts } from '../linux/host-facts.js';
import { parseMountOptions } from '../linux/mount-options.js';
import { isBind } from './semantics.js';
import type { Spec } from './types.js';

/** The first problem of the config's bind mounts, in mount order, worded as the whole line. */
export function mountSourceProblem(spec: Spec, bundle: string, host: Pick<HostFacts, 'pathKind'>): string | undefined {
  for (const m of spec.mounts ?? []) {
    if (!isBind(m)) continue;
    const dest = posix.normalize(m.destination);
    const src = resolve(bundle, m.source ?? '');
    if (host.pathKind(src) === 'missing') return `mount ${dest}: source ${src}: no such file or directory`;
    const idmap = parseMountOptions(m.options).idmap;
    if (idmap !== 'none' && !(m.uidMappings && m.gidMappings)) return `mount ${dest}: ${idmap} needs uidMappings and gidMappings on the mount`;
  }
  return undefined;
}
