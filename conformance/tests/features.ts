// features.md and features-linux.md: the runtime's features document.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, memo, type T } from '../lib/suite.js';
import { addUserns, setNamespace, type Config } from '../lib/bundle.js';
import { seccompAgent } from './security.js';
import { capNames, readText } from '../lib/util.js';

const S = 'features';

function doc(t: T): Record<string, any> {
  const d = memo('features-doc', () => {
    const r = t.rt.features();
    if (r.code !== 0) return undefined;
    try {
      return JSON.parse(r.stdout) as Record<string, any>;
    } catch {
      return { __unparsable: r.stdout };
    }
  });
  if (!d) t.skip('the runtime has no `features` command (the document is optional: MAY)');
  if (d.__unparsable !== undefined) return t.abort('features output is not JSON', d.__unparsable);
  return d;
}

function semverCmp(a: string, b: string): number {
  const p = (v: string) => v.split('-')[0]!.split('.').map(Number);
  const [x, y] = [p(a), p(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  // a pre-release sorts before its release
  return (a.includes('-') ? -1 : 0) - (b.includes('-') ? -1 : 0);
}
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** create + start + wait; true when the probe ran */
function runs(t: T, mutate: (c: Config) => void): string | undefined {
  const b = t.bundle(mutate);
  const { id, res, outFile } = t.create(b);
  if (res.code !== 0) return `create: ${res.stderr.trim().split('\n').pop()?.slice(0, 200)}`;
  const st = t.rt.start(id);
  if (st.code !== 0) return `start: ${st.stderr.trim().split('\n').pop()?.slice(0, 200)}`;
  t.rt.waitStatus(id, 'stopped');
  const out = t.waitFile(outFile, '@@END@@', 3000);
  t.rt.cleanup(id);
  return out.includes('@@END@@') ? undefined : 'the process did not run to completion';
}

test(S, 'ociVersionMin and ociVersionMax', ['ft.ociVersionMin', 'ft.ociVersionMax', 'ft.max-ge-min'], (t) => {
  const d = doc(t);
  t.ok(typeof d.ociVersionMin === 'string' && SEMVER.test(d.ociVersionMin), 'ociVersionMin is a SemVer string', d.ociVersionMin);
  t.ok(typeof d.ociVersionMax === 'string' && SEMVER.test(d.ociVersionMax), 'ociVersionMax is a SemVer string', d.ociVersionMax);
  if (typeof d.ociVersionMin === 'string' && typeof d.ociVersionMax === 'string') t.ok(semverCmp(d.ociVersionMax, d.ociVersionMin) >= 0, 'ociVersionMax >= ociVersionMin', [d.ociVersionMin, d.ociVersionMax]);
});

test(S, 'config.json with ociVersion = ociVersionMin is accepted', ['ft.ociVersionMin-accept'], (t) => {
  const d = doc(t);
  const err = runs(t, (c) => { c.ociVersion = d.ociVersionMin; });
  t.ok(!err, `a container with ociVersion ${d.ociVersionMin} runs`, err);
});

test(S, 'config.json with ociVersion = ociVersionMax is accepted', ['ft.ociVersionMax-accept'], (t) => {
  const d = doc(t);
  const err = runs(t, (c) => { c.ociVersion = d.ociVersionMax; });
  t.ok(!err, `a container with ociVersion ${d.ociVersionMax} runs`, err);
});

// properties defined by runtime-spec v1.3.0 (features.md, features-linux.md)
const KNOWN: Record<string, unknown> = {
  ociVersionMin: 1, ociVersionMax: 1, hooks: 1, mountOptions: 1, annotations: 1, potentiallyUnsafeConfigAnnotations: 1,
  linux: {
    namespaces: 1, capabilities: 1,
    cgroup: { v1: 1, v2: 1, systemd: 1, systemdUser: 1, rdma: 1 },
    seccomp: { enabled: 1, actions: 1, operators: 1, archs: 1, knownFlags: 1, supportedFlags: 1 },
    apparmor: { enabled: 1 }, selinux: { enabled: 1 }, intelRdt: { enabled: 1, schemata: 1 },
    mountExtensions: { idmap: { enabled: 1 } },
    netDevices: { enabled: 1 }, memoryPolicy: { modes: 1, flags: 1 },
  },
};

function unknownKeys(v: unknown, known: unknown, path: string, out: string[]): void {
  if (known === 1 || v === null || typeof v !== 'object' || Array.isArray(v)) return;
  for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
    const kk = (known as Record<string, unknown>)[k];
    if (kk === undefined) out.push(`${path}${k}`);
    else unknownKeys(sub, kk, `${path}${k}.`, out);
  }
}

test(S, 'no properties beyond those the specification defines', ['ft.no-undefined-props'], (t) => {
  const d = doc(t);
  const extra: string[] = [];
  unknownKeys(d, KNOWN, '', extra);
  t.equal(extra, [], 'properties not defined by the specification');
});

test(S, 'annotations are a map of strings', ['ft.annotations'], (t) => {
  const d = doc(t);
  if (d.annotations === undefined || d.annotations === null) t.skip('the document has no annotations');
  t.ok(typeof d.annotations === 'object' && !Array.isArray(d.annotations), 'annotations is an object');
  for (const [k, v] of Object.entries(d.annotations as Record<string, unknown>)) {
    t.ok(k !== '', 'keys are not empty');
    t.ok(typeof v === 'string', `value of ${k} is a string`, v);
  }
});

test(S, 'every listed hook is supported', ['ft.hooks'], (t) => {
  const d = doc(t);
  if (!Array.isArray(d.hooks)) t.skip('the document lists no hooks');
  const log = t.mkdir('log');
  for (const h of d.hooks as string[]) {
    const err = runs(t, (c) => {
      c.hooks = { [h]: [{ path: '/bin/sh', args: ['sh', '-c', `echo ${h} >> ${h === 'startContainer' ? '/cf-log' : log}/ran`] }] };
      c.mounts.push({ destination: '/cf-log', type: 'none', source: log, options: ['rbind'] });
    });
    t.ok(!err, `a container with a ${h} hook runs`, err);
    if (h !== 'poststop') t.ok((readText(join(log, 'ran')) ?? '').split('\n').includes(h), `the ${h} hook ran`);
  }
});

function mountFor(opt: string, src: string): Config[] {
  if (opt === 'tmpcopyup') return [{ destination: `/cf-ft/${opt}`, type: 'tmpfs', source: 'tmpfs', options: [opt] }];
  if (opt === 'remount') return [{ destination: `/cf-ft/${opt}`, type: 'tmpfs', source: 'tmpfs', options: [] }, { destination: `/cf-ft/${opt}`, type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro'] }];
  const m: Config = { destination: `/cf-ft/${opt}`, type: 'none', source: src, options: [opt.startsWith('r') && opt !== 'ro' && opt !== 'rw' && opt !== 'relatime' && opt !== 'remount' ? 'rbind' : 'bind', opt] };
  if (opt === 'idmap' || opt === 'ridmap') m.uidMappings = m.gidMappings = [{ containerID: 0, hostID: 3000, size: 10 }];
  return [m];
}

test(S, 'every listed mount option is recognized', ['ft.mountOptions'], (t) => {
  const d = doc(t);
  if (!Array.isArray(d.mountOptions)) t.skip('the document lists no mount options');
  const src = t.mkdir('src');
  writeFileSync(join(src, 'f'), 'x');
  const opts = d.mountOptions as string[];
  const all = runs(t, (c) => { for (const o of opts) c.mounts.push(...mountFor(o, src)); });
  if (!all) return;
  const bad: string[] = [];
  for (const o of opts) {
    const err = runs(t, (c) => { c.mounts.push(...mountFor(o, src)); });
    if (err) bad.push(`${o}: ${err}`);
  }
  t.equal(bad, [], 'options whose mount fails');
});

test(S, 'mount options are not filesystem-specific data', ['ft.mountOptions.no-fs-specific'], (t) => {
  const d = doc(t);
  if (!Array.isArray(d.mountOptions)) t.skip('the document lists no mount options');
  t.equal((d.mountOptions as string[]).filter((o) => o.includes('=')), [], 'options of the form key=value');
});

test(S, 'every listed namespace type is recognized', ['ftl.namespaces'], (t) => {
  const d = doc(t);
  const list = d.linux?.namespaces;
  if (!Array.isArray(list)) t.skip('the document lists no namespaces');
  for (const ns of list as string[]) {
    if (ns === 'time' && !t.host.timens) continue;
    const err = runs(t, (c) => {
      setNamespace(c, ns);
      if (ns === 'user') addUserns(c);
    });
    t.ok(!err, `a container with a new ${ns} namespace runs`, err);
  }
});

test(S, 'every listed capability is recognized', ['ftl.capabilities'], (t) => {
  const d = doc(t);
  const list = d.linux?.capabilities;
  if (!Array.isArray(list)) t.skip('the document lists no capabilities');
  // only what this host can grant: the statement is about recognizing names
  const hostBnd = new Set(capNames((/CapBnd:\s*([0-9a-f]+)/.exec(readText('/proc/self/status') ?? '') ?? [])[1]));
  const caps = (list as string[]).filter((c) => hostBnd.has(c));
  const err = runs(t, (c) => {
    c.process.capabilities = { bounding: caps, permitted: caps, effective: caps, inheritable: caps };
  });
  t.ok(!err, `a container with the ${caps.length} listed capabilities the host has runs`, err);
});

function seccompItems(t: T, key: string): string[] {
  const d = doc(t);
  const list = d.linux?.seccomp?.[key];
  if (!Array.isArray(list)) t.skip(`the document lists no seccomp ${key}`);
  return list as string[];
}

function seccompRuns(t: T, seccomp: Record<string, unknown>, needsAgent = false): string | undefined {
  const extra: Record<string, unknown> = {};
  if (needsAgent) extra.listenerPath = seccompAgent(t)[0];
  return runs(t, (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], ...extra, ...seccomp }; });
}

test(S, 'every listed seccomp action is recognized', ['ftl.seccomp.actions'], (t) => {
  const bad: string[] = [];
  for (const a of seccompItems(t, 'actions')) {
    const rule: Record<string, unknown> = { names: ['getpgid'], action: a };
    const err = seccompRuns(t, { syscalls: [rule] }, a === 'SCMP_ACT_NOTIFY');
    if (err) bad.push(`${a}: ${err}`);
  }
  t.equal(bad, [], 'actions a container cannot run with');
});

test(S, 'every listed seccomp operator is recognized', ['ftl.seccomp.operators'], (t) => {
  const bad: string[] = [];
  for (const op of seccompItems(t, 'operators')) {
    const arg = op === 'SCMP_CMP_MASKED_EQ' ? { index: 0, value: 0xff, valueTwo: 0x42, op } : { index: 0, value: 4242, op };
    const err = seccompRuns(t, { syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', args: [arg] }] });
    if (err) bad.push(`${op}: ${err}`);
  }
  t.equal(bad, [], 'operators a container cannot run with');
});

test(S, 'every listed seccomp architecture is recognized', ['ftl.seccomp.archs'], (t) => {
  const bad: string[] = [];
  // a seccomp filter cannot mix byte orders: big-endian architectures cannot join the little-endian native one
  const bigEndian = new Set(['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64']);
  const skipped = seccompItems(t, 'archs').filter((a) => bigEndian.has(a));
  if (skipped.length) t.note(`not tried (big-endian, cannot share a filter with x86_64): ${skipped.join(' ')}`);
  for (const a of seccompItems(t, 'archs').filter((x) => !bigEndian.has(x))) {
    const err = seccompRuns(t, { architectures: ['SCMP_ARCH_X86_64', a], syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO' }] });
    if (err) bad.push(`${a}: ${err}`);
  }
  t.equal(bad, [], 'architectures a container cannot run with');
});

for (const [key, id] of [['knownFlags', 'ftl.seccomp.knownFlags'], ['supportedFlags', 'ftl.seccomp.supportedFlags']] as const) {
  test(S, `every listed seccomp flag (${key}) is ${key === 'knownFlags' ? 'recognized' : 'supported'}`, [id], (t) => {
    const d = doc(t);
    const supported = new Set((d.linux?.seccomp?.supportedFlags as string[] | undefined) ?? []);
    const bad: string[] = [];
    for (const f of seccompItems(t, key)) {
      // a known flag the runtime says this kernel does not support may fail; recognizing it is what counts there
      const notify = f === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';
      const rules = notify ? [{ names: ['getpgid'], action: 'SCMP_ACT_NOTIFY' }] : [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO' }];
      const err = seccompRuns(t, { flags: [f], syscalls: rules }, notify);
      if (err && (key === 'supportedFlags' || supported.has(f))) bad.push(`${f}: ${err}`);
    }
    t.equal(bad, [], 'flags a container cannot run with');
  });
}

void mkdirSync;
