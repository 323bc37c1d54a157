// Paths inside a rootfs as the container sees them: symlinks on the way resolve inside the
// rootfs (an absolute link target or ".." never leaves it), like runc's securejoin. CRIU names
// a mount by where it really is, so /conf -> /real/conf must be given as /real/conf.
import * as fs from 'node:fs';
import * as path from 'node:path';

const MAX_LINKS = 255;

/** The path, inside rootfs, that `p` reaches; "/"-rooted and clean. Missing parts are kept as given. */
export function resolveInRoot(rootfs: string, p: string): string {
  const todo = p.split('/').filter((c) => c && c !== '.');
  const cur: string[] = [];
  let links = 0;
  while (todo.length) {
    const c = todo.shift()!;
    if (c === '..') {
      cur.pop();
      continue;
    }
    const host = path.join(rootfs, ...cur, c);
    let target: string | undefined;
    try {
      if (fs.lstatSync(host).isSymbolicLink()) target = fs.readlinkSync(host);
    } catch {
      // absent: taken as it is
    }
    if (target === undefined) {
      cur.push(c);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`${p}: too many levels of symbolic links in the rootfs`);
    if (target.startsWith('/')) cur.length = 0;
    todo.unshift(...target.split('/').filter((x) => x && x !== '.'));
  }
  return `/${cur.join('/')}`;
}
