// defaultSpec() is what `runc spec` (and `runc spec --rootless`) writes, but for ociVersion.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { bundle, specModules, tempDir } from './fixtures/support.js';

const { defaultSpec, SPEC_VERSION, parseConfig, schemaIssue } = await specModules();

function runcSpec(t: Test, args: string[]): string {
  const dir = tempDir(t);
  const r = spawnSync('runc', ['spec', ...args], { cwd: dir, encoding: 'utf8' });
  t.equal(r.status, 0, `runc spec ${args.join(' ')}: ${r.stderr}`);
  return readFileSync(join(dir, 'config.json'), 'utf8');
}

const haveRunc = spawnSync('runc', ['--version']).status === 0;

for (const rootless of [false, true]) {
  const skip = haveRunc ? false : 'runc is not installed';
  t.test(`same as runc spec${rootless ? ' --rootless' : ''} (ociVersion aside)`, { skip }, async (t) => {
    const text = runcSpec(t, rootless ? ['--rootless'] : []);
    const runc = JSON.parse(text);
    const ours = defaultSpec({ rootless });
    t.equal(ours.ociVersion, SPEC_VERSION);
    t.equal(SPEC_VERSION, '1.3.0');
    t.strictSame({ ...ours, ociVersion: runc.ociVersion }, runc, 'same document');
    // Same key order too: runc writes tab-indented JSON, so the text can be compared.
    t.equal(JSON.stringify({ ...ours, ociVersion: runc.ociVersion }, null, '\t'), text, 'same text');
  });
}

t.test('rootless maps the given or current ids', async (t) => {
  const s = defaultSpec({ rootless: true, uid: 1000, gid: 100 });
  t.strictSame(s.linux?.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  t.strictSame(s.linux?.gidMappings, [{ containerID: 0, hostID: 100, size: 1 }]);
  t.notOk(s.linux?.namespaces?.some((n) => n.type === 'network'), 'no network namespace');
  t.notOk(s.linux?.resources, 'no cgroup resources');
  const cur = defaultSpec({ rootless: true });
  t.equal(cur.linux?.uidMappings?.[0]?.hostID, process.geteuid!());
  t.equal(cur.linux?.gidMappings?.[0]?.hostID, process.getegid!());
});

t.test('a fresh copy each call', async (t) => {
  const a = defaultSpec();
  a.process!.args!.push('x');
  t.strictSame(defaultSpec().process!.args, ['sh']);
});

t.test('the defaults pass the schema and every semantic check', async (t) => {
  for (const rootless of [false, true]) {
    t.equal(schemaIssue('config', defaultSpec({ rootless })), null);
    const dir = bundle(t);
    const warnings: string[] = [];
    t.doesNotThrow(() => parseConfig(JSON.stringify(defaultSpec({ rootless })), dir, { warn: (w: string) => warnings.push(w) }));
    t.strictSame(warnings, [], 'no warnings');
  }
});

t.test('on a pure cgroup v2 host runc spec adds a cgroup namespace (runc spec.go)', async (t) => {
  const types = (s: ReturnType<typeof defaultSpec>) => s.linux?.namespaces?.map((n) => n.type);
  t.same(types(defaultSpec({ cgroupV2: true })), ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
  t.same(types(defaultSpec({ cgroupV2: false })), ['pid', 'network', 'ipc', 'uts', 'mount']);
  t.same(types(defaultSpec({ cgroupV2: true, rootless: true, uid: 1000, gid: 1000 })), ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
});
