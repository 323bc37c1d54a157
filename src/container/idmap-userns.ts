// User namespaces that carry the mappings of idmapped mounts: a short-lived tsrun-init cloned
// into a new user namespace, its maps written, the namespace kept open as an fd.
import * as fs from 'node:fs';
import type { Mount } from '../spec/types.js';
import { launchInit } from '../native/init-protocol.js';
import type { Native } from '../native/native.js';
import { Op } from '../native/ops.js';
import { CLONE } from '../linux/constants.js';
import { parseMountOptions } from '../linux/mount-options.js';
import { formatIdMap } from '../linux/namespaces-plan.js';

export interface IdmapNamespaces {
  fdOf(m: Mount): number | undefined;
  fds: number[];
  close(): void;
}

export async function idmapNamespaces(native: Native, mounts: readonly Mount[]): Promise<IdmapNamespaces> {
  const byKey = new Map<string, number>();
  const ofMount = new Map<Mount, number>();
  try {
    for (const m of mounts) {
      if (parseMountOptions(m.options).idmap === 'none' || !m.uidMappings || !m.gidMappings) continue;
      const key = formatIdMap(m.uidMappings) + '|' + formatIdMap(m.gidMappings);
      let fd = byKey.get(key);
      if (fd === undefined) {
        fd = await usernsWithMaps(native, formatIdMap(m.uidMappings), formatIdMap(m.gidMappings));
        byKey.set(key, fd);
      }
      ofMount.set(m, fd);
    }
  } catch (e) {
    for (const fd of byKey.values()) fs.closeSync(fd);
    throw e;
  }
  return {
    fdOf: (m) => ofMount.get(m),
    fds: [...byKey.values()],
    close: () => {
      for (const fd of byKey.values()) fs.closeSync(fd);
      byKey.clear();
    },
  };
}

async function usernsWithMaps(native: Native, uidMap: string, gidMap: string): Promise<number> {
  let fd: number | undefined;
  const launched = await launchInit({
    native,
    cloneFlags: CLONE.NEWUSER,
    plan: [
      { op: Op.SYNC, ints: ['U'.charCodeAt(0)], what: 'hold the user namespace' },
      { op: Op.READY, what: 'report ready' },
    ],
    onSync: (_code, pid) => {
      fs.writeFileSync(`/proc/${pid}/uid_map`, uidMap);
      fs.writeFileSync(`/proc/${pid}/gid_map`, gidMap);
      fd = fs.openSync(`/proc/${pid}/ns/user`, 'r');
    },
  });
  native.waitpid(launched.pid, 0); // it exits at the end of its plan
  return fd!;
}
