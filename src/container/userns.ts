// Writes the uid/gid maps of a new user namespace, as the parent of its first process.
import * as fs from 'node:fs';
import type { IDMapping } from '../spec/types.js';
import { formatIdMap } from '../linux/namespaces-plan.js';

export function writeIdMaps(pid: number, uid: IDMapping[] | undefined, gid: IDMapping[] | undefined): void {
  const uidMap = formatIdMap(uid);
  const gidMap = formatIdMap(gid);
  if (process.getuid?.() === 0) {
    if (uidMap) fs.writeFileSync(`/proc/${pid}/uid_map`, uidMap);
    if (gidMap) fs.writeFileSync(`/proc/${pid}/gid_map`, gidMap);
    return;
  }
  // Unprivileged: a single mapping of our own ids works directly (setgroups denied first);
  // anything else needs the setuid helpers from Debian's uidmap package.
  const own = (m: IDMapping[] | undefined, id: number) => !m || (m.length === 1 && m[0]!.size === 1 && m[0]!.hostID === id);
  if (own(uid, process.getuid!()) && own(gid, process.getgid!())) {
    fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    if (uidMap) fs.writeFileSync(`/proc/${pid}/uid_map`, uidMap);
    if (gidMap) fs.writeFileSync(`/proc/${pid}/gid_map`, gidMap);
    return;
  }
  for (const [tool, maps] of [['newuidmap', uid], ['newgidmap', gid]] as const) {
    if (!maps?.length) continue;
    const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
    // node:child_process on use: only multi-range mappings need newuidmap (~1 ms to load).
    const r = process.getBuiltinModule('node:child_process').spawnSync(tool, args, { encoding: 'utf8' });
    if (r.error) throw new Error(`${tool}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${(r.stderr || '').trim() || `exit status ${r.status}`}`);
  }
}
