// linux.netDevices: move host network interfaces into the container's network namespace, as
// runc does: set the device down, move and rename it in one netlink request (`ip link set ...
// netns ... name ...`), give it back its permanent global addresses (a move drops them), set it
// up. Done from the parent once the namespace exists. When the namespace goes away the kernel
// returns physical devices to the host and destroys virtual ones.
import * as fs from 'node:fs';
import { TsrunError } from '../errors.js';

interface Addr {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
  dynamic?: boolean;
}

function findTool(name: string): string | undefined {
  for (const d of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    const p = `${d}/${name}`;
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  // node:child_process on use: most containers move no device, and it costs ~1 ms to load.
  const r = process.getBuiltinModule('node:child_process').spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr || r.error?.message || '').trim().split('\n')[0] ?? '' };
}

/** Moves each device of linux.netDevices into the network namespace at nsPath. */
export function moveNetDevices(devs: Record<string, { name?: string }> | undefined, nsPath: string): void {
  const entries = Object.entries(devs ?? {});
  if (!entries.length) return;
  const ip = findTool('ip');
  const nsenter = findTool('nsenter');
  if (!ip || !nsenter) throw new TsrunError('linux.netDevices: moving network devices needs the ip (iproute2) and nsenter (util-linux) commands');
  for (const [host, d] of entries) {
    const at = `linux.netDevices.${host}`;
    const name = d.name || host;
    const show = run(ip, ['-j', 'addr', 'show', 'dev', host]);
    if (!show.ok) throw new TsrunError(`${at}: no such network interface on the host (${show.err})`);
    let addrs: Addr[] = [];
    try {
      addrs = ((JSON.parse(show.out) as Array<{ addr_info?: Addr[] }>)[0]?.addr_info ?? []);
    } catch {
      addrs = [];
    }
    const step = (what: string, r: { ok: boolean; err: string }): void => {
      if (!r.ok) throw new TsrunError(`${at}: ${what}: ${r.err}`);
    };
    step('set it down', run(ip, ['link', 'set', 'dev', host, 'down']));
    step("move it into the container's network namespace", run(ip, ['link', 'set', 'dev', host, 'netns', nsPath, 'name', name]));
    const inNs = (args: string[]) => run(nsenter, [`--net=${nsPath}`, ip, ...args]);
    // permanent addresses of global scope only (runc): dynamic and link-local ones belong to the host
    for (const a of addrs) {
      if (a.dynamic || a.scope !== 'global' || !a.local || a.prefixlen === undefined) continue;
      step(`add the address ${a.local}/${a.prefixlen}`, inNs(['addr', 'add', `${a.local}/${a.prefixlen}`, 'dev', name]));
    }
    step('set it up', inNs(['link', 'set', 'dev', name, 'up']));
  }
}

/** The network namespace the container's devices go to: the config's path, or the init's own. */
export function netnsPath(namespaces: ReadonlyArray<{ type: string; path?: string }> | undefined, initPid: number): string {
  const net = (namespaces ?? []).find((n) => n.type === 'network');
  return net?.path || `/proc/${initPid}/ns/net`;
}
