// featuresDocument(): valid for the project's schema and upstream's, consistent with the
// lists the config schema and the rest of tsrun use, and shaped like `runc features`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { KNOWN_MOUNT_OPTIONS } from '../../src/linux/mount-options.js';
import { REPO, specModules, upstreamValidators } from './fixtures/support.js';

const m = await specModules();
const doc = m.featuresDocument();
const upstream = await upstreamValidators();
const defs = JSON.parse(readFileSync(join(REPO, 'schema/defs.json'), 'utf8')).definitions;

t.test('valid for the project features schema', async (t) => {
  t.equal(m.schemaIssue('features', doc), null);
});

t.test('valid for the upstream features schema', { skip: upstream ? false : '../shared/oci-runtime-spec-v1.3.0 is not there' }, async (t) => {
  const ok = upstream!.features(doc);
  t.ok(ok, JSON.stringify(upstream!.features.errors));
});

t.test('versions, hooks, cgroup and LSM answers', async (t) => {
  t.equal(doc.ociVersionMin, '1.0.0');
  t.equal(doc.ociVersionMax, '1.3.0');
  t.strictSame(doc.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  t.strictSame(doc.linux?.cgroup, { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true });
  t.strictSame(doc.linux?.apparmor, { enabled: false });
  t.strictSame(doc.linux?.selinux, { enabled: false });
  t.strictSame(doc.linux?.intelRdt, { enabled: false });
  t.strictSame(doc.linux?.mountExtensions, { idmap: { enabled: true } });
  t.equal(doc.linux?.seccomp?.enabled, true);
  for (const key of Object.keys(doc.annotations ?? {})) t.match(key, /^io\.github\.tsrun\./, `annotation ${key} under tsrun's name`);
  t.equal(doc.annotations?.['io.github.tsrun.version'], m.TSRUN_VERSION);
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  t.equal(m.TSRUN_VERSION, pkg.version, 'version as in package.json');
});

t.test('namespaces and capabilities: all of them', async (t) => {
  t.strictSame([...(doc.linux?.namespaces ?? [])].sort(), [...defs.NamespaceKind.enum].sort());
  t.equal(doc.linux?.capabilities?.length, 41);
  t.strictSame(doc.linux?.capabilities, m.CAPABILITY_NAMES);
  m.CAPABILITY_NAMES.forEach((name: string, i: number) => t.equal(m.capabilityNumber(name), i, `${name} is ${i}`));
  t.equal(m.CAP_LAST_CAP, 40);
  t.equal(m.capabilityNumber('CAP_NOPE'), undefined);
  t.equal(m.capabilityNumber('hasOwnProperty'), undefined, 'no prototype keys');
});

t.test('rlimit numbers', async (t) => {
  t.equal(m.RLIMIT_NAMES.length, 16);
  m.RLIMIT_NAMES.forEach((name: string, i: number) => t.equal(m.rlimitNumber(name), i, `${name} is ${i}`));
  t.equal(m.rlimitNumber('RLIMIT_NOPE'), undefined);
  t.equal(m.rlimitNumber('toString'), undefined);
});

t.test('seccomp lists match the config schema', async (t) => {
  const s = doc.linux!.seccomp!;
  t.strictSame([...s.actions!].sort(), [...defs.SeccompAction.enum].sort(), 'actions');
  t.strictSame([...s.operators!].sort(), [...defs.SeccompOperator.enum].sort(), 'operators');
  t.strictSame([...s.knownFlags!].sort(), [...defs.SeccompFlag.enum].sort(), 'known flags');
  for (const f of s.supportedFlags!) t.ok(s.knownFlags!.includes(f), `${f} is a known flag`);
  for (const a of s.archs!) t.ok(defs.SeccompArch.enum.includes(a), `${a} is in the schema`);
  t.ok(s.archs!.includes('SCMP_ARCH_X86_64'));
});

t.test('mount options: what the mount code knows, all named by the spec or runc', async (t) => {
  t.strictSame(doc.mountOptions, [...KNOWN_MOUNT_OPTIONS].sort());
  const haveRunc = spawnSync('runc', ['--version']).status === 0;
  if (!haveRunc) return;
  const runc = JSON.parse(spawnSync('runc', ['features'], { encoding: 'utf8' }).stdout);
  const known = new Set([...runc.mountOptions, 'idmap', 'ridmap']);
  for (const o of doc.mountOptions ?? []) t.ok(known.has(o), `${o} is an option runc or the spec names`);
});

t.test('same top-level shape as runc features', { skip: spawnSync('runc', ['--version']).status === 0 ? false : 'runc is not installed' }, async (t) => {
  const runc = JSON.parse(spawnSync('runc', ['features'], { encoding: 'utf8' }).stdout);
  for (const key of Object.keys(runc)) t.ok(key in doc, `has ${key}`);
  for (const key of Object.keys(runc.linux)) t.ok(key in doc.linux!, `has linux.${key}`);
});
