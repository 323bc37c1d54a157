// linux.intelRdt, linux.memoryPolicy and linux.netDevices (class: a config field the runtime
// accepts but silently does not apply, so the container runs with less isolation or placement
// than it was promised). Each is applied, or refused with one line naming the field.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { describe, makeBundle, readOut, rt, uniqueId } from '../helpers/index.js';
import { refused } from './fixtures/lib.js';

const resctrl = readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'resctrl');

t.test('intelRdt is refused clearly where resctrl is not mounted', { skip: resctrl && 'resctrl is mounted here' }, async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => void (c.linux.intelRdt = { closID: 'guaranteed_group', l3CacheSchema: 'L3:0=ffff' }));
  refused(t, rt(t, ['create', '--bundle', b.dir, id]), id, /\/linux\/intelRdt: .*Intel RDT/, 'intelRdt');
});

const numa = existsSync('/sys/devices/system/node/node0') && existsSync('/proc/self/numa_maps');

t.test('memoryPolicy: set_mempolicy before the exec; the process allocates by it', { skip: !numa && 'no NUMA support in this kernel' }, async (t) => {
  const policyOf = (text: string) => {
    // numa_maps shows the task policy on every mapping without one of its own
    const first = text.split('\n').find((l) => /^[0-9a-f]+ /.test(l));
    return first?.split(' ')[1];
  };
  const cases: Array<[any, string]> = [
    [{ mode: 'MPOL_BIND', nodes: '0' }, 'bind:0'],
    [{ mode: 'MPOL_INTERLEAVE', nodes: '0' }, 'interleave:0'],
    [{ mode: 'MPOL_PREFERRED', nodes: '0' }, 'prefer:0'],
    [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }, 'bind=static:0'],
    [{ mode: 'MPOL_LOCAL' }, 'local'],
    [{ mode: 'MPOL_DEFAULT' }, 'default'],
  ];
  for (const [mp, want] of cases) {
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => void (c.linux.memoryPolicy = mp), { args: ['cat', '/proc/self/numa_maps'] });
    const r = rt(t, ['run', '--bundle', b.dir, id]);
    t.equal(r.status, 0, `${JSON.stringify(mp)}: runs`, { detail: describe(r) });
    t.equal(policyOf(readOut(r)), want, `${JSON.stringify(mp)}: the process's policy is ${want}`);
  }
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => void (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '63' }));
  refused(t, rt(t, ['create', '--bundle', b.dir, id]), id, /set the memory policy MPOL_BIND on nodes 63: invalid argument/, 'a node this host does not have');
});

const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find(existsSync);
const veth = ip !== undefined && spawnSync(ip, ['link', 'add', 'tsrv-probe0', 'type', 'veth', 'peer', 'name', 'tsrv-probe1']).status === 0;
if (veth) spawnSync(ip!, ['link', 'del', 'tsrv-probe0']);

t.test('netDevices: a host interface moves into the container, renamed, with its address, up', { skip: !veth && 'cannot create veth pairs here' }, async (t) => {
  const tag = Math.random().toString(36).slice(2, 7);
  const hostDev = `tsv${tag}a`;
  const peer = `tsv${tag}b`;
  t.equal(spawnSync(ip!, ['link', 'add', hostDev, 'type', 'veth', 'peer', 'name', peer]).status, 0, 'a veth pair');
  t.teardown(() => {
    spawnSync(ip!, ['link', 'del', hostDev]);
    spawnSync(ip!, ['link', 'del', peer]);
  });
  spawnSync(ip!, ['addr', 'add', '10.251.7.1/24', 'dev', hostDev]);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => void (c.linux.netDevices = { [hostDev]: { name: 'ctr0' } }), {
    args: ['sh', '-c', 'cat /sys/class/net/ctr0/flags; ls /sys/class/net; grep -c . /proc/net/fib_trie >/dev/null && cat /proc/net/fib_trie'],
  });
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  t.equal(r.status, 0, 'runs', { detail: describe(r) });
  const out = readOut(r);
  const flags = parseInt(out.split('\n')[0] ?? '0', 16);
  t.ok(flags & 1, 'ctr0 is up in the container (IFF_UP)', { out });
  t.match(out, /^ctr0$/m, 'named ctr0 inside');
  t.notMatch(out, new RegExp(`^${hostDev}$`, 'm'), 'not under its host name');
  t.match(out, /10\.251\.7\.1/, 'with its permanent address');
  t.not(spawnSync(ip!, ['link', 'show', hostDev]).status, 0, 'gone from the host while the container had it');

  const id2 = uniqueId(t);
  const b2 = makeBundle(t, (c) => void (c.linux.netDevices = { tsvnone0: {} }));
  refused(t, rt(t, ['create', '--bundle', b2.dir, id2]), id2, /linux\.netDevices\.tsvnone0: no such network interface on the host/, 'a missing device');
});
