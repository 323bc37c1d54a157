// Whether tsrun runs in a user namespace (rootless podman): uid 0 there is not the host's root.
import { fs } from './io.js';

export function inUserNamespace(): boolean {
  try {
    const map = fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return !(map.length === 3 && map[0] === '0' && map[1] === '0' && map[2] === '4294967295');
  } catch {
    return false;
  }
}
