// config.md Mounts, Linux mount options, POSIX-platform Mounts (idmap).
import { mkdirSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, finalCleanups, type T, type Env } from '../lib/suite.js';
import type { Config } from '../lib/bundle.js';
import { parseMountinfo, mountAt, type MountInfo } from '../lib/util.js';

const S = 'mounts';

// ---- host-side sources, shared by the mount option tests -------------------

interface HostSources {
  plain: string; // dir with a marker and a tmpfs submount "sub"
  flagged: string; // dir whose submount "sub" is ro,noatime,nodev,nodiratime,noexec,nosuid,nosymfollow
  shared: string; // a shared tmpfs with a shared tmpfs submount "sub"
}
let sources: HostSources | undefined;

function sh(args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' });
}

export function hostSources(env: Env): HostSources {
  if (sources) return sources;
  const base = join(env.work, 'mount-sources');
  const s: HostSources = { plain: join(base, 'plain'), flagged: join(base, 'flagged'), shared: join(base, 'shared') };
  for (const d of [s.plain, s.flagged, s.shared]) mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(s.plain, 'marker'), 'plain');
  sh(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'cf-plain-sub', join(s.plain, 'sub')]);
  writeFileSync(join(s.plain, 'sub', 'submarker'), 'sub');
  const fl = 'noatime,nodev,nodiratime,noexec,nosuid,nosymfollow';
  sh(['mount', '-t', 'tmpfs', '-o', `size=1m,${fl}`, 'cf-flagged-sub', join(s.flagged, 'sub')]);
  writeFileSync(join(s.flagged, 'sub', 'submarker'), 'sub');
  sh(['mount', '-o', `remount,bind,ro,${fl}`, join(s.flagged, 'sub')]);
  sh(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'cf-shared', s.shared]);
  sh(['mount', '--make-shared', s.shared]);
  mkdirSync(join(s.shared, 'sub'), { recursive: true });
  sh(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'cf-shared-sub', join(s.shared, 'sub')]);
  sh(['mount', '--make-shared', join(s.shared, 'sub')]);
  finalCleanups.push(() => {
    for (const m of [join(s.shared, 'sub'), s.shared, join(s.flagged, 'sub'), join(s.plain, 'sub')]) {
      try {
        sh(['umount', '-l', m]);
      } catch {
        /* already gone */
      }
    }
  });
  sources = s;
  return s;
}

// ---- the option cases -------------------------------------------------------

type Check = (m: MountInfo, sub: MountInfo | undefined, probe: Record<string, any>) => string | undefined;
interface OptCase {
  opt: string;
  mounts: (dest: string, src: HostSources) => Config[];
  check: Check;
  stat?: string[];
}

const has = (m: MountInfo, o: string) => m.options.includes(o);
const sup = (m: MountInfo, o: string) => m.superOptions.includes(o);
const req = (cond: boolean, msg: string) => (cond ? undefined : msg);
const tmpfs = (...options: string[]) => (dest: string) => [{ destination: dest, type: 'tmpfs', source: 'tmpfs', options }];
const opt = (m: MountInfo) => `${m.options.join(',')} / ${m.superOptions.join(',')} / ${m.optional.join(' ')}`;

const cases: OptCase[] = [
  { opt: 'async', mounts: tmpfs('async'), check: (m) => req(!sup(m, 'sync'), `synchronous: ${opt(m)}`) },
  { opt: 'atime', mounts: tmpfs('noatime', 'atime'), check: (m) => req(!has(m, 'noatime'), `noatime not cleared by a later atime: ${opt(m)}`) },
  { opt: 'defaults', mounts: tmpfs('defaults'), check: (m) => req(has(m, 'rw') && !has(m, 'nosuid') && !has(m, 'nodev') && !has(m, 'noexec'), `not rw,suid,dev,exec: ${opt(m)}`) },
  { opt: 'dev', mounts: tmpfs('nodev', 'dev'), check: (m) => req(!has(m, 'nodev'), `nodev not cleared by a later dev: ${opt(m)}`) },
  { opt: 'diratime', mounts: tmpfs('nodiratime', 'diratime'), check: (m) => req(!has(m, 'nodiratime'), `nodiratime not cleared: ${opt(m)}`) },
  { opt: 'dirsync', mounts: tmpfs('dirsync'), check: (m) => req(sup(m, 'dirsync'), `no dirsync: ${opt(m)}`) },
  { opt: 'exec', mounts: tmpfs('noexec', 'exec'), check: (m) => req(!has(m, 'noexec'), `noexec not cleared: ${opt(m)}`) },
  { opt: 'iversion', mounts: tmpfs('iversion'), check: () => undefined },
  { opt: 'lazytime', mounts: tmpfs('lazytime'), check: (m) => req(sup(m, 'lazytime'), `no lazytime: ${opt(m)}`) },
  { opt: 'loud', mounts: tmpfs('loud'), check: () => undefined },
  { opt: 'noatime', mounts: tmpfs('noatime'), check: (m) => req(has(m, 'noatime'), `no noatime: ${opt(m)}`) },
  { opt: 'nodev', mounts: tmpfs('nodev'), check: (m) => req(has(m, 'nodev'), `no nodev: ${opt(m)}`) },
  { opt: 'nodiratime', mounts: tmpfs('nodiratime'), check: (m) => req(has(m, 'nodiratime'), `no nodiratime: ${opt(m)}`) },
  { opt: 'noexec', mounts: tmpfs('noexec'), check: (m) => req(has(m, 'noexec'), `no noexec: ${opt(m)}`) },
  { opt: 'noiversion', mounts: tmpfs('noiversion'), check: () => undefined },
  { opt: 'nolazytime', mounts: tmpfs('lazytime', 'nolazytime'), check: (m) => req(!sup(m, 'lazytime'), `lazytime not cleared: ${opt(m)}`) },
  { opt: 'norelatime', mounts: tmpfs('norelatime'), check: () => undefined },
  { opt: 'nostrictatime', mounts: tmpfs('strictatime', 'nostrictatime'), check: (m) => req(has(m, 'relatime'), `strictatime not cleared (no default relatime): ${opt(m)}`) },
  { opt: 'nosuid', mounts: tmpfs('nosuid'), check: (m) => req(has(m, 'nosuid'), `no nosuid: ${opt(m)}`) },
  { opt: 'nosymfollow', mounts: tmpfs('nosymfollow'), check: (m) => req(has(m, 'nosymfollow'), `no nosymfollow: ${opt(m)}`) },
  { opt: 'relatime', mounts: tmpfs('relatime'), check: (m) => req(has(m, 'relatime'), `no relatime: ${opt(m)}`) },
  { opt: 'ro', mounts: tmpfs('ro'), check: (m) => req(has(m, 'ro'), `not ro: ${opt(m)}`) },
  { opt: 'rw', mounts: tmpfs('ro', 'rw'), check: (m) => req(has(m, 'rw'), `not rw: ${opt(m)}`) },
  { opt: 'silent', mounts: tmpfs('silent'), check: () => undefined },
  { opt: 'strictatime', mounts: tmpfs('strictatime'), check: (m) => req(!has(m, 'relatime') && !has(m, 'noatime'), `not strictatime: ${opt(m)}`) },
  { opt: 'suid', mounts: tmpfs('nosuid', 'suid'), check: (m) => req(!has(m, 'nosuid'), `nosuid not cleared: ${opt(m)}`) },
  { opt: 'symfollow', mounts: tmpfs('nosymfollow', 'symfollow'), check: (m) => req(!has(m, 'nosymfollow'), `nosymfollow not cleared: ${opt(m)}`) },
  { opt: 'sync', mounts: tmpfs('sync'), check: (m) => req(sup(m, 'sync'), `no sync: ${opt(m)}`) },
  {
    opt: 'bind',
    mounts: (dest) => [{ destination: dest, type: 'none', source: 'bind-source', options: ['bind'] }],
    stat: ['marker'],
    check: (_m, _s, p) => req(p.statOf('marker')?.type === 'file', 'the bind source (relative to the bundle) is not visible'),
  },
  {
    opt: 'rbind',
    mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.plain, options: ['rbind'] }],
    stat: ['sub/submarker'],
    check: (_m, sub, p) => req(sub !== undefined && p.statOf('sub/submarker')?.type === 'file', 'the submount of the source is not visible'),
  },
  {
    opt: 'remount',
    mounts: (dest) => [
      { destination: dest, type: 'tmpfs', source: 'tmpfs', options: ['rw'] },
      { destination: dest, type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro'] },
    ],
    check: (m, _s, p) => req(has(m, 'ro') && p.countAt() === 1, `not one mount remounted ro (${p.countAt()} mounts): ${opt(m)}`),
  },
];

// propagation: a bind of a shared host mount (and its shared submount for r* options)
const prop: [string, (m: MountInfo) => string | undefined][] = [
  ['private', (m) => req(!m.optional.some((o) => /^(shared|master):/.test(o)), `not private: ${opt(m)}`)],
  ['shared', (m) => req(m.optional.some((o) => o.startsWith('shared:')), `not shared: ${opt(m)}`)],
  ['slave', (m) => req(m.optional.some((o) => o.startsWith('master:')) && !m.optional.some((o) => o.startsWith('shared:')), `not a slave: ${opt(m)}`)],
  ['unbindable', (m) => req(m.optional.includes('unbindable'), `not unbindable: ${opt(m)}`)],
];
for (const [o, chk] of prop) {
  cases.push({ opt: o, mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.shared, options: ['bind', o] }], check: (m) => chk(m) });
  cases.push({
    opt: `r${o}`,
    mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.shared, options: ['rbind', `r${o}`] }],
    check: (m, sub) => chk(m) ?? (sub ? chk(sub) && `submount: ${chk(sub)}` : 'submount missing'),
  });
}

// recursive (mount_setattr AT_RECURSIVE) options, applied to an rbind with a submount
const recSet: [string, string][] = [['rnoatime', 'noatime'], ['rnodiratime', 'nodiratime'], ['rnoexec', 'noexec'], ['rnosuid', 'nosuid'], ['rnosymfollow', 'nosymfollow'], ['rro', 'ro']];
for (const [o, flag] of recSet) {
  cases.push({
    opt: o,
    mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.plain, options: ['rbind', o] }],
    check: (m, sub) => req(has(m, flag) && !!sub && has(sub, flag), `${flag} not on the mount and its submount: ${opt(m)} | ${sub ? opt(sub) : 'no submount'}`),
  });
}
const recClear: [string, string][] = [['ratime', 'noatime'], ['rdev', 'nodev'], ['rdiratime', 'nodiratime'], ['rexec', 'noexec'], ['rsuid', 'nosuid'], ['rsymfollow', 'nosymfollow'], ['rrw', 'ro']];
for (const [o, flag] of recClear) {
  cases.push({
    opt: o,
    mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.flagged, options: ['rbind', o] }],
    check: (_m, sub) => req(!!sub && !has(sub, flag), `${flag} not cleared on the submount: ${sub ? opt(sub) : 'no submount'}`),
  });
}
cases.push({
  opt: 'rrelatime',
  mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.flagged, options: ['rbind', 'rrelatime'] }],
  check: (_m, sub) => req(!!sub && has(sub, 'relatime') && !has(sub, 'noatime'), `submount not relatime: ${sub ? opt(sub) : 'no submount'}`),
});
cases.push({
  opt: 'rstrictatime',
  mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.plain, options: ['rbind', 'rstrictatime'] }],
  check: (_m, sub) => req(!!sub && !has(sub, 'relatime') && !has(sub, 'noatime'), `submount not strictatime: ${sub ? opt(sub) : 'no submount'}`),
});
for (const o of ['rnorelatime', 'rnostrictatime']) {
  cases.push({
    opt: o,
    mounts: (dest, s) => [{ destination: dest, type: 'none', source: s.plain, options: ['rbind', o] }],
    check: (_m, sub) => req(!!sub, 'submount missing'),
  });
}

// ---- running the cases: one container for all, one per case as a fallback --

interface CaseData {
  mounts: MountInfo[];
  probe: Record<string, any>;
}
let batch: { data?: CaseData; error?: string } | undefined;
const single = new Map<string, { data?: CaseData; error?: string }>();

function caseMounts(c: OptCase, src: HostSources): Config[] {
  return c.mounts(`/cf-mo/${c.opt}`, src);
}

function runCases(t: T, list: OptCase[]): { data?: CaseData; error?: string } {
  const src = hostSources(t.env);
  const statArgs = list.flatMap((c) => (c.stat ?? []).flatMap((s) => ['--stat', `/cf-mo/${c.opt}/${s}`]));
  const b = t.bundle((cfg) => {
    cfg.process.args = ['/bin/probe', 'report', ...statArgs];
    for (const c of list) cfg.mounts.push(...caseMounts(c, src));
  });
  mkdirSync(join(b.dir, 'bind-source'), { recursive: true });
  writeFileSync(join(b.dir, 'bind-source', 'marker'), 'x');
  const { id, res, outFile } = t.create(b);
  if (res.code !== 0) return { error: `create failed: ${res.stderr.trim().slice(0, 400)}` };
  const st = t.rt.start(id);
  if (st.code !== 0) return { error: `start failed: ${st.stderr.trim().slice(0, 400)}` };
  t.rt.waitStatus(id, 'stopped');
  const out = t.waitFile(outFile, '@@END@@');
  const m = /@@PROBE@@([\s\S]*?)@@END@@/.exec(out);
  if (!m) return { error: 'no probe report' };
  const probe = JSON.parse(m[1]!);
  return { data: { mounts: parseMountinfo(probe.mountinfo), probe } };
}

function resultFor(t: T, c: OptCase): { data?: CaseData; error?: string } {
  if (!batch) batch = runCases(t, cases);
  if (batch.data) return batch;
  let r = single.get(c.opt);
  if (!r) {
    r = runCases(t, [c]);
    single.set(c.opt, r);
  }
  return r;
}

const levels: Record<string, string> = {};
for (const o of ['nosymfollow', 'symfollow', 'ratime', 'rdev', 'rdiratime', 'rexec', 'rnoatime', 'rnodiratime', 'rnoexec', 'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow', 'rrelatime', 'rro', 'rrw', 'rstrictatime', 'rsuid', 'rsymfollow']) levels[o] = 'SHOULD';

for (const c of cases) {
  test(S, `mount option ${c.opt}${levels[c.opt] ? ' (SHOULD)' : ''}`, [`cfg.mountopt.${c.opt}`], (t) => {
    const r = resultFor(t, c);
    if (!r.data) return t.abort(`a container with the ${c.opt} option could not run`, r.error);
    const dest = `/cf-mo/${c.opt}`;
    const m = mountAt(r.data.mounts, dest);
    if (!m) return t.abort(`nothing mounted at ${dest}`);
    const sub = mountAt(r.data.mounts, `${dest}/sub`);
    const p = {
      ...r.data.probe,
      statOf: (rel: string) => (r.data!.probe.stat as any[]).find((s) => s.path === `${dest}/${rel}`),
      countAt: () => r.data!.mounts.filter((x) => x.mountPoint === dest).length,
    };
    const err = c.check(m, sub, p);
    t.ok(!err, `option ${c.opt} has its effect`, err);
  });
}

// ---- other mount statements ---------------------------------------------------

test(S, 'mounts are made in the listed order', ['cfg.mounts.order', 'cfg.mounts.destination'], (t) => {
  const vol = t.mkdir('vol');
  writeFileSync(join(vol, 'under'), 'x');
  const { probe } = t.probe((c) => {
    c.mounts.push({ destination: '/cf-order', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    c.mounts.push({ destination: '/cf-order/inner', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    c.mounts.push({ destination: '/cf-order2', type: 'none', source: vol, options: ['bind'] });
    c.mounts.push({ destination: '/cf-order2', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
  }, ['--stat', '/cf-order2/under']);
  const mi = parseMountinfo(probe.mountinfo);
  const i1 = mi.findIndex((m) => m.mountPoint === '/cf-order');
  const i2 = mi.findIndex((m) => m.mountPoint === '/cf-order/inner');
  t.ok(i1 >= 0 && i2 > i1, 'the outer mount is made before the inner one', [i1, i2]);
  t.equal(mountAt(mi, '/cf-order2')?.fsType, 'tmpfs', 'the later mount on the same destination is on top');
  t.equal(probe.stat[0]?.error, 'ENOENT', 'the earlier bind mount is covered');
});

test(S, 'a relative destination is relative to /', ['cfg.mounts.destination-relative'], (t) => {
  const { probe } = t.probe((c) => { c.mounts.push({ destination: 'cf-relative', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); });
  t.ok(mountAt(parseMountinfo(probe.mountinfo), '/cf-relative'), 'mounted at /cf-relative');
});

test(S, 'unknown options are passed to the filesystem as data', ['cfg.mounts.data'], (t) => {
  const { probe } = t.probe((c) => { c.mounts.push({ destination: '/cf-data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=0700'] }); }, ['--stat', '/cf-data']);
  const m = mountAt(parseMountinfo(probe.mountinfo), '/cf-data');
  t.ok(m && sup(m, 'size=1024k'), 'size=1m reached tmpfs', m && opt(m));
  t.equal(probe.stat[0]?.mode, 0o700, 'mode=0700 reached tmpfs');
  t.ok(m && has(m, 'nosuid'), 'the known option is a flag', m && opt(m));
});

test(S, 'uidMappings without gidMappings is an error', ['cfg.mounts.uidMappings-with-gid', 'cfg.valid-values'], (t) => {
  const vol = t.mkdir('vol');
  const b = t.bundle((c) => { c.mounts.push({ destination: '/cf-id', type: 'none', source: vol, options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }); });
  t.mustFail(t.create(b).res, 'create with a mount that has uidMappings only');
});

test(S, 'gidMappings without uidMappings is an error', ['cfg.mounts.gidMappings-with-uid', 'cfg.valid-values'], (t) => {
  const vol = t.mkdir('vol');
  const b = t.bundle((c) => { c.mounts.push({ destination: '/cf-id', type: 'none', source: vol, options: ['bind', 'idmap'], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }); });
  t.mustFail(t.create(b).res, 'create with a mount that has gidMappings only');
});

test(S, 'idmap without mappings or a user namespace is an error', ['cfg.mounts.idmap-no-userns-error'], (t) => {
  const vol = t.mkdir('vol');
  const b = t.bundle((c) => { c.mounts.push({ destination: '/cf-id', type: 'none', source: vol, options: ['bind', 'idmap'] }); });
  t.mustFail(t.create(b).res, 'create with an idmap mount, no mappings, no user namespace');
});

function idmapRun(t: T, recursive: boolean) {
  const vol = recursive ? hostSources(t.env).plain : t.mkdir('vol');
  if (!recursive) {
    writeFileSync(join(vol, 'marker'), 'x');
    chownSync(join(vol, 'marker'), 0, 0);
  }
  const map = [{ containerID: 0, hostID: 2000, size: 10 }];
  return t.probe((c) => {
    c.mounts.push({ destination: '/cf-idmap', type: 'none', source: vol, options: [recursive ? 'rbind' : 'bind', recursive ? 'ridmap' : 'idmap'], uidMappings: map, gidMappings: map });
  }, ['--stat', '/cf-idmap/marker', '--stat', '/cf-idmap/sub/submarker']).probe;
}

test(S, 'mount option idmap applies the mount mappings (SHOULD)', ['cfg.mountopt.idmap', 'cfg.mounts.idmap-use-mappings'], (t) => {
  const probe = idmapRun(t, false);
  t.equal([probe.stat[0]?.uid, probe.stat[0]?.gid], [2000, 2000], 'a file owned by 0:0 on disk shows as 2000:2000 through the idmapped mount');
});

test(S, 'mount option ridmap applies the mappings recursively (SHOULD)', ['cfg.mountopt.ridmap', 'cfg.mounts.idmap-use-mappings'], (t) => {
  const probe = idmapRun(t, true);
  t.equal([probe.stat[0]?.uid, probe.stat[0]?.gid], [2000, 2000], 'the top mount is idmapped');
  t.equal([probe.stat[1]?.uid, probe.stat[1]?.gid], [2000, 2000], 'the submount is idmapped');
});
