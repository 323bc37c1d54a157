// JSON null as runc (Go's encoding/json) reads it: an object member given as null is absent,
// anywhere in config.json; a required member given as null is missing; a wrong type is still
// an error with its JSON pointer.
import t, { type Test } from 'tap';
import { bundle, clone, type Loose, specModules } from './fixtures/support.js';

const m = await specModules();
const { loadConfig, ConfigError, defaultSpec } = m;
const { dropNullMembers } = await import('../../src/spec/json-null.js');

function base(): Loose {
  return clone(defaultSpec());
}

function failure(t: Test, config: unknown): string {
  try {
    loadConfig(bundle(t, config));
  } catch (e) {
    t.type(e, ConfigError);
    return (e as Error).message;
  }
  t.fail('loadConfig accepted the config');
  return '';
}

t.test('dropNullMembers removes null members at any depth, keeps array elements', async (t) => {
  const doc = { a: null, b: { c: null, d: [1, null, { e: null, f: 0 }] }, g: '', h: false };
  t.strictSame(dropNullMembers(doc), { b: { d: [1, null, { f: 0 }] }, g: '', h: false });
  t.equal(dropNullMembers(null), null);
  t.strictSame(dropNullMembers([null]), [null]);
});

t.test('podman seccomp profile: "args": null and other null members are absent', async (t) => {
  const c = base();
  c.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: null,
    architectures: null,
    flags: null,
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: null, comment: '', includes: {}, excludes: {} },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: null, args: null },
    ],
  };
  c.hooks = null;
  c.annotations = null;
  c.hostname = null;
  c.process.capabilities.ambient = null;
  c.process.rlimits = null;
  c.linux.resources = { devices: [{ allow: false, access: 'rwm', major: null, minor: null, type: null }], memory: null };
  c.linux.uidMappings = null;
  c.mounts[0].options = null;
  const spec = loadConfig(bundle(t, c));
  t.notOk('args' in spec.linux!.seccomp!.syscalls![0]!, 'args is absent');
  t.notOk('errnoRet' in spec.linux!.seccomp!.syscalls![1]!, 'errnoRet is absent');
  t.notOk('hooks' in spec);
  t.notOk('hostname' in spec);
  t.notOk('ambient' in spec.process!.capabilities!);
  t.strictSame(spec.linux!.resources!.devices, [{ allow: false, access: 'rwm' }]);
});

t.test('a required member given as null is missing; a wrong type still names its pointer', async (t) => {
  let c = base();
  c.process.cwd = null;
  t.equal(failure(t, c), 'config.json /process/cwd: is required but missing');
  c = base();
  c.root.path = null;
  t.equal(failure(t, c), 'config.json /root/path: is required but missing');
  c = base();
  c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: {} }] };
  t.equal(failure(t, c), 'config.json /linux/seccomp/syscalls/0/args: must be an array, not an object');
  c = base();
  c.process.args = ['sh', null];
  t.equal(failure(t, c), 'config.json /process/args/1: must be a string, not null');
  c = base();
  c.process.user = null;
  t.ok(loadConfig(bundle(t, c)).process?.user, 'process.user null: the default user, as when absent');
});
