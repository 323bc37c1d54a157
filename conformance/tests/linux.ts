// config-linux.md: namespaces, user namespace mappings, devices, sysctl,
// masked/readonly paths, rootfs propagation, personality, time offsets;
// config.md root; runtime-linux.md /dev symlinks.
import { mkdirSync, writeFileSync, rmSync, statSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test, memo, type T, type ProbeRun } from '../lib/suite.js';
import { addUserns, setNamespace, dropNamespace, type Config } from '../lib/bundle.js';
import { nsOf, parseMountinfo, mountAt, readText } from '../lib/util.js';

const S = 'linux';

function rootfsEntry(t: T, name: string, kind: 'file' | 'dir'): string {
  const p = join(t.env.rootfs, name);
  if (kind === 'dir') mkdirSync(p, { recursive: true });
  else writeFileSync(p, 'secret\n');
  t.defer(() => rmSync(p, { recursive: true, force: true }));
  return `/${name}`;
}

// ---- namespaces ------------------------------------------------------------

const nsChecks: Record<string, { link: string; setup?: (c: Config) => void; args?: string[]; check?: (t: T, p: Record<string, any>) => void }> = {
  pid: { link: 'pid', check: (t, p) => t.equal(p.pid, 1, 'the process is pid 1 of its pid namespace') },
  network: {
    link: 'net',
    args: ['--read', '/proc/net/dev'],
    check: (t, p) => {
      const devs = ((p.read['/proc/net/dev']?.text as string) ?? '').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
      t.equal(devs, ['lo'], 'only a loopback interface in the new network namespace');
    },
  },
  mount: { link: 'mnt' },
  ipc: { link: 'ipc' },
  uts: { link: 'uts', check: (t, p) => t.equal(p.hostname, 'conformance', 'hostname of the new uts namespace') },
  user: {
    link: 'user',
    setup: (c) => addUserns(c),
    check: (t, p) => t.equal((p.uidMap as string).trim().split(/\s+/), ['0', '100000', '65536'], 'uid_map of the new user namespace'),
  },
  cgroup: {
    link: 'cgroup',
    check: (t, p) => {
      const lines = (p.cgroup as string).trim().split('\n');
      t.ok(lines.length > 0 && lines.every((l) => l.endsWith(':/')), 'the process sees its cgroups as the root of the hierarchy', lines);
    },
  },
  time: {
    link: 'time',
    setup: (c) => { c.linux.timeOffsets = { monotonic: { secs: 1000, nanosecs: 0 } }; },
    check: (t, p) => t.ok(/monotonic\s+1000\s+0/.test(p.timensOffsets ?? ''), 'time namespace offsets', p.timensOffsets),
  },
};

for (const [type, spec] of Object.entries(nsChecks)) {
  test(S, `new ${type} namespace`, ['cl.ns.new', `cl.ns.type.${type}`], (t) => {
    if (type === 'time' && !t.host.timens) t.skip('the kernel has no time namespaces');
    const { probe } = t.probe((c) => {
      setNamespace(c, type);
      spec.setup?.(c);
    }, spec.args ?? []);
    t.ok(probe.ns[spec.link] && probe.ns[spec.link] !== t.host.hostNs(spec.link), `the process is in a new ${type} namespace`, probe.ns[spec.link]);
    spec.check?.(t, probe);
  });
}

test(S, 'namespaces not listed are inherited from the runtime', ['cl.ns.inherit'], (t) => {
  const { probe } = t.probe((c) => {
    dropNamespace(c, 'network');
    dropNamespace(c, 'ipc');
  });
  t.equal(probe.ns.net, t.host.hostNs('net'), "network namespace is the runtime's");
  t.equal(probe.ns.ipc, t.host.hostNs('ipc'), "ipc namespace is the runtime's");
});

const joinable: [string, string][] = [['network', 'net'], ['ipc', 'ipc'], ['uts', 'uts'], ['pid', 'pid'], ['cgroup', 'cgroup'], ['user', 'user']];
for (const [type, link] of joinable) {
  test(S, `join an existing ${type} namespace by path`, ['cl.ns.path-join'], (t) => {
    const a = t.running((c) => {
      setNamespace(c, 'cgroup');
      if (type === 'user') addUserns(c);
    });
    const path = `/proc/${a.pid}/ns/${link}`;
    const { probe } = t.probe((c) => {
      setNamespace(c, type, path);
      if (type === 'uts') delete c.hostname;
      if (type === 'user') {
        // the mappings of the joined namespace (a runtime cannot write them again; some insist on seeing them)
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/sys/fs/cgroup' && m.destination !== '/sys');
      }
    });
    t.equal(probe.ns[link], nsOf(a.pid, link), `the process is in the ${type} namespace of ${path}`);
    if (type === 'pid') t.ok(probe.pid !== 1, 'not pid 1: it joined a pid namespace that already has an init', probe.pid);
  });
}

test(S, 'a namespace path of the wrong type is an error', ['cl.ns.path-type-mismatch'], (t) => {
  const a = t.running();
  const b = t.bundle((c) => setNamespace(c, 'network', `/proc/${a.pid}/ns/uts`));
  t.mustFail(t.create(b).res, 'create with a network namespace path that is a uts namespace');
});

test(S, 'a relative namespace path is an error', ['cl.ns.path-absolute', 'cfg.valid-values'], (t) => {
  const a = t.running();
  const b = t.bundle((c) => setNamespace(c, 'network', `proc/${a.pid}/ns/net`));
  t.mustFail(t.create(b, undefined, { cwd: '/' }).res, 'create with namespace path "proc/<pid>/ns/net"');
});

test(S, 'duplicate namespace types are an error', ['cl.ns.duplicate'], (t) => {
  const b = t.bundle((c) => { c.linux.namespaces.push({ type: 'network' }); });
  t.mustFail(t.create(b).res, 'create with two network namespace entries');
});

// ---- user namespace mappings ------------------------------------------------

function usernsRun(t: T): ProbeRun & { before: number; after: number } {
  return memo('userns-mappings', () => {
    const before = statSync(join(t.env.rootfs, 'bin', 'busybox')).uid;
    const run = t.probe((c) => {
      addUserns(c);
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 300000, size: 10 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 2000 }];
    });
    return { ...run, before, after: statSync(join(t.env.rootfs, 'bin', 'busybox')).uid };
  });
}

function maps(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.trim().split(/\s+/));
}

test(S, 'uid and gid mappings: containerID', ['cl.idmap.containerID'], (t) => {
  const r = usernsRun(t);
  t.equal(maps(r.probe.uidMap).map((m) => m[0]), ['0', '1000'], 'uid_map container ids');
  t.equal(maps(r.probe.gidMap).map((m) => m[0]), ['0'], 'gid_map container ids');
});

test(S, 'uid and gid mappings: hostID', ['cl.idmap.hostID'], (t) => {
  const r = usernsRun(t);
  t.equal(maps(r.probe.uidMap).map((m) => m[1]), ['100000', '300000'], 'uid_map host ids');
  t.equal(maps(r.probe.gidMap).map((m) => m[1]), ['200000'], 'gid_map host ids');
});

test(S, 'uid and gid mappings: size', ['cl.idmap.size'], (t) => {
  const r = usernsRun(t);
  t.equal(maps(r.probe.uidMap).map((m) => m[2]), ['1000', '10'], 'uid_map sizes');
  t.equal(maps(r.probe.gidMap).map((m) => m[2]), ['2000'], 'gid_map sizes');
});

test(S, 'the rootfs ownership is not changed to realize the mapping', ['cl.idmap.no-chown'], (t) => {
  const r = usernsRun(t);
  t.equal([r.before, r.after], [0, 0], 'rootfs /bin/busybox owner on the host before and after');
});

// ---- devices ------------------------------------------------------------------

function devicesRun(t: T): ProbeRun {
  return memo('devices', () =>
    t.probe((c) => {
      c.linux.devices = [
        { path: '/dev/cf-null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1, gid: 2 },
        { path: '/dev/cf-loop', type: 'b', major: 7, minor: 0, fileMode: 0o640, uid: 0, gid: 0 },
        { path: '/dev/cf-fifo', type: 'p', fileMode: 0o644 },
        { path: '/dev/cf-unbuffered', type: 'u', major: 1, minor: 5 },
        { path: '/cf-outside-dev/cf-null2', type: 'c', major: 1, minor: 3 },
        { path: '/dev/cf-zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
      ];
    }, ['--stat', '/dev/cf-zero', '--stat', '/dev/cf-null', '--stat', '/dev/cf-loop', '--stat', '/dev/cf-fifo', '--stat', '/dev/cf-unbuffered', '--stat', '/cf-outside-dev/cf-null2']),
  );
}
const st = (r: ProbeRun, p: string) => (r.probe.stat as any[]).find((s) => s.path === p);

test(S, 'configured devices are available', ['cl.devices.available'], (t) => {
  const r = devicesRun(t);
  for (const p of ['/dev/cf-null', '/dev/cf-loop', '/dev/cf-fifo', '/dev/cf-unbuffered', '/cf-outside-dev/cf-null2']) t.ok(st(r, p) && !st(r, p).error, `${p} exists`, st(r, p));
  t.equal(st(r, '/dev/cf-zero')?.readbytes, 1, '/dev/cf-zero (1:5, mode 0666) can be opened and read');
});

test(S, 'device types c, b, u, p', ['cl.devices.type'], (t) => {
  const r = devicesRun(t);
  t.equal(st(r, '/dev/cf-null')?.type, 'char', 'c is a character device');
  t.equal(st(r, '/dev/cf-loop')?.type, 'block', 'b is a block device');
  t.equal(st(r, '/dev/cf-unbuffered')?.type, 'char', 'u is a character device');
  t.equal(st(r, '/dev/cf-fifo')?.type, 'fifo', 'p is a fifo');
});

test(S, 'device path outside /dev', ['cl.devices.path'], (t) => {
  const r = devicesRun(t);
  t.equal(st(r, '/cf-outside-dev/cf-null2')?.type, 'char', '/cf-outside-dev/cf-null2 is a character device');
});

test(S, 'device major and minor numbers', ['cl.devices.majorminor'], (t) => {
  const r = devicesRun(t);
  t.equal([st(r, '/dev/cf-null')?.major, st(r, '/dev/cf-null')?.minor], [1, 3], '/dev/cf-null is 1:3');
  t.equal([st(r, '/dev/cf-loop')?.major, st(r, '/dev/cf-loop')?.minor], [7, 0], '/dev/cf-loop is 7:0');
  t.equal([st(r, '/dev/cf-unbuffered')?.major, st(r, '/dev/cf-unbuffered')?.minor], [1, 5], '/dev/cf-unbuffered is 1:5');
});

test(S, 'device fileMode, uid and gid', ['rt.create.apply-all-but-process'], (t) => {
  const r = devicesRun(t);
  t.equal(st(r, '/dev/cf-null')?.mode, 0o600, '/dev/cf-null mode');
  t.equal([st(r, '/dev/cf-null')?.uid, st(r, '/dev/cf-null')?.gid], [1, 2], '/dev/cf-null owner');
  t.equal(st(r, '/dev/cf-loop')?.mode, 0o640, '/dev/cf-loop mode');
});

test(S, 'a device path where a different file exists is an error', ['cl.devices.exists-mismatch'], (t) => {
  const name = rootfsEntry(t, `cf-conflict-${process.pid}`, 'file');
  const b = t.bundle((c) => { c.linux.devices = [{ path: name, type: 'c', major: 1, minor: 3 }]; });
  t.mustFail(t.create(b).res, `create with device ${name} over a regular file`);
});

const defaults: [string, string, number, number, boolean][] = [
  ['null', '/dev/null', 1, 3, false], ['zero', '/dev/zero', 1, 5, true], ['full', '/dev/full', 1, 7, true],
  ['random', '/dev/random', 1, 8, true], ['urandom', '/dev/urandom', 1, 9, true], ['tty', '/dev/tty', 5, 0, false],
];
function defaultDevs(t: T): ProbeRun {
  return memo('default-devices', () => t.probe(() => {}, [...defaults.flatMap(([, p]) => ['--stat', p]), '--stat', '/dev/ptmx', '--stat', '/dev/pts/ptmx', '--stat', '/dev/fd', '--stat', '/dev/stdin', '--stat', '/dev/stdout', '--stat', '/dev/stderr']));
}
for (const [name, path, major, minor, readable] of defaults) {
  test(S, `default device ${path}`, [`cl.devices.default.${name}`], (t) => {
    const r = defaultDevs(t);
    const s = st(r, path);
    t.equal([s?.type, s?.major, s?.minor], ['char', major, minor], `${path} is character device ${major}:${minor}`);
    if (readable) t.equal(s?.readbytes, 1, `${path} can be read (allowed by the device cgroup)`);
    else if (name === 'null') t.equal(s?.read, 'OK', `${path} can be opened`);
  });
}

test(S, 'default device /dev/ptmx', ['cl.devices.default.ptmx'], (t) => {
  const r = defaultDevs(t);
  const s = st(r, '/dev/ptmx');
  const pts = st(r, '/dev/pts/ptmx');
  const ok = (s?.type === 'symlink' && ['pts/ptmx', '/dev/pts/ptmx'].includes(s?.target)) || (s?.type === 'char' && s?.major === 5 && s?.minor === 2 && pts && s.ino === pts.ino && s.dev_minor === pts.dev_minor);
  t.ok(ok, '/dev/ptmx is a symlink to, or a bind mount of, /dev/pts/ptmx', { ptmx: s, pts });
});

for (const [name, target] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']] as const) {
  test(S, `/dev/${name} symlink`, [`rtl.devsymlinks.${name}`], (t) => {
    const r = defaultDevs(t);
    const s = st(r, `/dev/${name}`);
    t.equal([s?.type, s?.target], ['symlink', target], `/dev/${name} -> ${target}`);
  });
}

test(S, 'default filesystems', ['cl.fs.default'], (t) => {
  const { probe } = t.probe(() => {});
  const mi = parseMountinfo(probe.mountinfo);
  for (const [p, type] of [['/proc', 'proc'], ['/sys', 'sysfs'], ['/dev/pts', 'devpts'], ['/dev/shm', 'tmpfs']]) {
    t.equal(mountAt(mi, p!)?.fsType, type, `${p} is ${type}`);
  }
});

// ---- sysctl, masked and readonly paths ------------------------------------------

test(S, 'sysctl values are applied', ['rt.create.apply-all-but-process'], (t) => {
  const want = { 'kernel.shmmax': '12345678', 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096' };
  const { probe } = t.probe((c) => { c.linux.sysctl = want; }, Object.keys(want).flatMap((k) => ['--sysctl', k]));
  t.equal(probe.sysctl, want, 'values read from /proc/sys in the container');
});

test(S, 'masked paths cannot be read', ['rt.create.apply-all-but-process'], (t) => {
  const f = rootfsEntry(t, `cf-masked-file-${process.pid}`, 'file');
  const d = rootfsEntry(t, `cf-masked-dir-${process.pid}`, 'dir');
  writeFileSync(join(t.env.rootfs, d, 'inside'), 'secret');
  const { probe } = t.probe((c) => { c.linux.maskedPaths.push(f, d); }, ['--stat', '/proc/kcore', '--stat', f, '--stat', d, '--stat', '/etc/passwd']);
  const s = (p: string) => (probe.stat as any[]).find((x) => x.path === p);
  const unreadable = (x: any) => x && (x.error !== undefined || x.readbytes === 0 || x.entries === 0 || (x.read !== undefined && x.read !== 'OK'));
  t.ok(unreadable(s('/proc/kcore')), '/proc/kcore reads nothing (or does not exist on this kernel)', s('/proc/kcore'));
  t.ok(unreadable(s(f)) && s(f)?.error === undefined, `${f} reads nothing`, s(f));
  t.ok(unreadable(s(d)) && s(d)?.error === undefined, `${d} lists nothing`, s(d));
  t.equal(s('/etc/passwd')?.readbytes, 1, 'an unmasked file is readable');
});

test(S, 'readonly paths cannot be written', ['rt.create.apply-all-but-process'], (t) => {
  const d = rootfsEntry(t, `cf-ro-dir-${process.pid}`, 'dir');
  const { probe } = t.probe((c) => { c.linux.readonlyPaths.push(d); }, ['--write', d, '--write', '/tmp']);
  t.equal(probe.write[0]?.result, 'EROFS', `${d} is read-only`);
  t.equal(probe.write[1]?.result, 'OK', '/tmp (not listed) is writable');
});

test(S, 'a relative masked path is an error', ['cl.maskedPaths.absolute', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.linux.maskedPaths = ['proc/kcore']; });
  t.mustFail(t.create(b).res, 'create with maskedPaths ["proc/kcore"]');
});

test(S, 'a relative readonly path is an error', ['cl.readonlyPaths.absolute', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.linux.readonlyPaths = ['proc/sys']; });
  t.mustFail(t.create(b).res, 'create with readonlyPaths ["proc/sys"]');
});

// ---- root ------------------------------------------------------------------------

test(S, 'root.readonly makes the root filesystem read-only', ['cfg.root.readonly'], (t) => {
  const { probe } = t.probe((c) => { c.root.readonly = true; }, ['--write', '/', '--write', '/tmp', '--write', '/dev/shm']);
  t.equal(probe.write[0]?.result, 'EROFS', '/ is read-only');
  t.equal(probe.write[1]?.result, 'EROFS', '/tmp (part of the rootfs) is read-only');
  t.equal(probe.write[2]?.result, 'OK', '/dev/shm (a mount) stays writable');
});

test(S, 'root.path relative to the bundle', ['cfg.root.path'], (t) => {
  const b = t.bundle((c) => { c.root.path = 'rootfs'; });
  mkdirSync(join(b.dir, 'rootfs'));
  execFileSync('mount', ['--bind', t.env.rootfs, join(b.dir, 'rootfs')]);
  t.defer(() => execFileSync('umount', ['-l', join(b.dir, 'rootfs')]));
  const run = t.probeBundle(b, { cwd: '/' });
  t.equal(run.probe.args?.[0], '/bin/probe', 'the process ran from the rootfs named relative to the bundle');
});

test(S, 'a missing root is an error', ['cfg.root.required', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { delete c.root; });
  t.mustFail(t.create(b).res, 'create without root');
});

test(S, 'a root path that does not exist is an error', ['cfg.root.path-exists'], (t) => {
  const b = t.bundle((c) => { c.root.path = join(t.dir, 'no-such-rootfs'); });
  t.mustFail(t.create(b).res, 'create with a root.path that does not exist');
});

// ---- propagation, personality, time ---------------------------------------------------

for (const [prop, want] of [['shared', /^shared:/], ['private', null], ['unbindable', /^unbindable$/], ['slave', /^master:/]] as const) {
  test(S, `rootfsPropagation ${prop}`, ['rt.create.apply-all-but-process'], (t) => {
    if (prop === 'slave') {
      const hostRoot = parseMountinfo(readText('/proc/self/mountinfo') ?? '').find((m) => m.mountPoint === '/');
      if (!hostRoot?.optional.some((o) => o.startsWith('shared:'))) t.skip('the host / is not a shared mount, so a slave rootfs has no master to show');
    }
    const { probe } = t.probe((c) => { c.linux.rootfsPropagation = prop; });
    const root = mountAt(parseMountinfo(probe.mountinfo), '/');
    if (!root) return t.abort('no / in mountinfo');
    if (want) t.ok(root.optional.some((o) => want.test(o)), `/ is ${prop}`, root.optional);
    else t.ok(!root.optional.some((o) => /^(shared|master):|^unbindable$/.test(o)), '/ is private', root.optional);
  });
}

test(S, 'personality LINUX32', ['cl.personality.domain'], (t) => {
  const p32 = t.probe((c) => { c.linux.personality = { domain: 'LINUX32' }; }).probe;
  t.equal(p32.personality & 0xff, 0x0008, 'personality is PER_LINUX32');
  t.equal(p32.machine, 'i686', 'uname shows a 32-bit machine');
  const p64 = t.probe((c) => { c.linux.personality = { domain: 'LINUX' }; }).probe;
  t.equal(p64.personality & 0xff, 0, 'personality is PER_LINUX');
});

test(S, 'time namespace offsets', ['rt.create.apply-all-but-process', 'cl.ns.type.time'], (t) => {
  if (!t.host.timens) t.skip('the kernel has no time namespaces');
  const off = { mono: 365 * 86400, boot: 2 * 365 * 86400 };
  const mono0 = Number(process.hrtime.bigint() / 1_000_000_000n);
  const boot0 = Math.floor(Number((readText('/proc/uptime') ?? '0').split(' ')[0]));
  const { probe } = t.probe((c) => {
    setNamespace(c, 'time');
    c.linux.timeOffsets = { monotonic: { secs: off.mono, nanosecs: 0 }, boottime: { secs: off.boot, nanosecs: 0 } };
  });
  const mono1 = Number(process.hrtime.bigint() / 1_000_000_000n);
  const boot1 = Math.ceil(Number((readText('/proc/uptime') ?? '0').split(' ')[0]));
  const m = probe.clocks.monotonic as number;
  const b = probe.clocks.boottime as number;
  t.ok(m >= mono0 + off.mono && m <= mono1 + off.mono + 1, 'CLOCK_MONOTONIC is shifted by the offset', { m, mono0, mono1 });
  t.ok(b >= boot0 + off.boot - 1 && b <= boot1 + off.boot + 1, 'CLOCK_BOOTTIME is shifted by the offset', { b, boot0, boot1 });
  void readFileSync;
});
