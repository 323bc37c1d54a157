// Keys read as runc (Go's encoding/json) reads them: a key that names a struct field only
// case-insensitively is that field (runc's update.bats: "update cpuset parameters via
// resources.CPU"), keys of maps are data and stay as written, an exact key is preferred and a
// repeated field is decoded in document order. The table comes from the project's schema.
import t from 'tap';
import { bundle, clone, type Loose, specModules } from './fixtures/support.js';

const m = await specModules();
const { loadConfig, parseProcess, defaultSpec } = m;
const { foldGoKeys, goFold, readAsGo } = await import('../../src/spec/go-keys.js');
const { buildGoKeyTable } = await import('../../scripts/build-validators.js');

function base(): Loose {
  return clone(defaultSpec());
}

t.test('update.bats shape: linux.resources.CPU with Cpus and Mems is the cpu object', async (t) => {
  const c = base();
  c.linux.resources = { CPU: { Cpus: '0', Mems: '0' } };
  const spec = loadConfig(bundle(t, c));
  t.strictSame(spec.linux!.resources!.cpu, { cpus: '0', mems: '0' });
  t.notOk('CPU' in spec.linux!.resources!, 'no key left as written');
});

t.test('update -r resources: the same folding, from the Resources definition', async (t) => {
  const r = readAsGo({ CPU: { Cpus: '0', Mems: '0' }, Memory: { LIMIT: 1048576, Swap: null }, PIDS: { Limit: 5 } }, 'resources');
  t.strictSame(r, { cpu: { cpus: '0', mems: '0' }, memory: { limit: 1048576 }, pids: { limit: 5 } });
});

t.test('nested struct fields at any depth: Process.User.UID, Linux.Resources.BlockIO.WeightDevice[].Major', async (t) => {
  const c = base();
  c.Process = c.process;
  delete c.process;
  c.Process.User = { UID: 1000, Gid: 1000, AdditionalGIDs: [5] };
  delete c.Process.user;
  c.Process.Capabilities = { BOUNDING: ['CAP_KILL'] };
  delete c.Process.capabilities;
  c.linux.resources = { BlockIO: { WeightDevice: [{ Major: 8, MINOR: 0, Weight: 10 }] } };
  const spec = loadConfig(bundle(t, c));
  t.strictSame(spec.process!.user, { uid: 1000, gid: 1000, additionalGids: [5] });
  t.strictSame(spec.process!.capabilities, { bounding: ['CAP_KILL'] });
  t.strictSame(spec.linux!.resources!.blockIO, { weightDevice: [{ major: 8, minor: 0, weight: 10 }] }, 'allOf: BlockDevice fields too');
});

t.test('arrays of objects: Mounts[].Destination, Hooks.Prestart[].Path, seccomp syscalls[].Args[]', async (t) => {
  const c = base();
  c.Mounts = [{ Destination: '/proc', TYPE: 'proc', Source: 'proc' }, ...c.mounts.slice(1)];
  delete c.mounts;
  c.Hooks = { Prestart: [{ Path: '/bin/true', Args: ['true'] }] };
  c.linux.Seccomp = { DefaultAction: 'SCMP_ACT_ALLOW', Syscalls: [{ Names: ['mkdir'], Action: 'SCMP_ACT_ERRNO', Args: [{ Index: 0, Value: 1, OP: 'SCMP_CMP_EQ' }] }] };
  const spec = loadConfig(bundle(t, c));
  t.strictSame(spec.mounts![0], { destination: '/proc', type: 'proc', source: 'proc' });
  t.strictSame(spec.hooks, { prestart: [{ path: '/bin/true', args: ['true'] }] });
  t.strictSame(spec.linux!.seccomp!.syscalls![0]!.args, [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }]);
});

t.test('map keys are never renamed; map values that are structs are folded', async (t) => {
  const c = base();
  c.annotations = { CPU: 'x', Cpu: 'y', 'org.Example/Key': 'z' };
  c.linux.resources = { Unified: { 'CPU.Max': 'max' }, RDMA: { MLX5_0: { HcaHandles: 3 } } };
  c.linux.netDevices = { ETH0: { Name: 'eth1' } };
  const spec = loadConfig(bundle(t, c));
  t.strictSame(spec.annotations, { CPU: 'x', Cpu: 'y', 'org.Example/Key': 'z' });
  // (a semantic check refuses this sysctl name, after the folding: see it before)
  t.strictSame(readAsGo({ linux: { Sysctl: { 'Net.Ipv4.Ip_forward': '1' } } }, 'config'), { linux: { sysctl: { 'Net.Ipv4.Ip_forward': '1' } } });
  t.strictSame(spec.linux!.resources!.unified, { 'CPU.Max': 'max' });
  t.strictSame(spec.linux!.resources!.rdma, { MLX5_0: { hcaHandles: 3 } });
  t.strictSame(spec.linux!.netDevices, { ETH0: { name: 'eth1' } });
  // timeOffsets is a map in runc (map[string]LinuxTimeOffset): a clock name is not folded.
  t.strictSame(foldGoKeys({ linux: { timeOffsets: { Boottime: { SECS: 1 } } } }, 'config'), { linux: { timeOffsets: { Boottime: { secs: 1 } } } });
});

t.test('keys that are no field stay as written, and are not looked into', async (t) => {
  const doc = { ociVersion: '1.0.0', root: { path: 'r' }, 'org.example': { CPU: 1 }, windows: { LayerFolders: [] }, process: { CwD: '/', 'x-Env': 1 } };
  t.strictSame(foldGoKeys(doc, 'config'), { ociVersion: '1.0.0', root: { path: 'r' }, 'org.example': { CPU: 1 }, windows: { LayerFolders: [] }, process: { cwd: '/', 'x-Env': 1 } });
  t.strictSame(foldGoKeys({ __proto__x: 1, constructor: 2, toString: 3 }, 'config'), { __proto__x: 1, constructor: 2, toString: 3 }, 'Object.prototype names are no fields');
  const proto = JSON.parse('{"__proto__": {"CWD": 1}, "Cwd": "/"}');
  const out = foldGoKeys(proto, 'process') as Loose;
  t.equal(Object.getPrototypeOf(out), Object.prototype, 'a "__proto__" key does not become the prototype');
  t.strictSame(Object.keys(out), ['__proto__', 'cwd']);
  const rdma = foldGoKeys(JSON.parse('{"rdma": {"__proto__": {"HcaHandles": 1}}}'), 'resources') as Loose;
  t.equal(Object.getPrototypeOf(rdma.rdma), Object.prototype, 'a map key "__proto__" stays a key');
  t.strictSame(Object.getOwnPropertyDescriptor(rdma.rdma, '__proto__')?.value, { hcaHandles: 1 });
});

t.test("Go's case folding: ASCII letters, the long s and the Kelvin sign; nothing else", async (t) => {
  t.equal(goFold('NoNewPrivileges'), 'nonewprivileges');
  t.strictSame(foldGoKeys({ cwd: '/', ſELinuxLabel: 'a', \u212aEEP: 1, NOneWPRIVILEGES: true }, 'process'), { cwd: '/', selinuxLabel: 'a', \u212aEEP: 1, noNewPrivileges: true });
  t.strictSame(foldGoKeys({ cwd: '/', \u0130oPriority: 1, 'cwd ': 2 }, 'process'), { cwd: '/', \u0130oPriority: 1, 'cwd ': 2 }, 'dotted I is not i; no trimming');
});

t.test('exact match preferred; a field given twice is decoded in document order, as Go does', async (t) => {
  // An exact key alone and a variant alone both land on the field.
  t.strictSame(foldGoKeys({ cpu: { cpus: '1' } }, 'resources'), { cpu: { cpus: '1' } });
  // Scalars: the later key wins, exact or not (golang/go#43664).
  t.strictSame(foldGoKeys({ cpu: { cpus: '1', Cpus: '2' } }, 'resources'), { cpu: { cpus: '2' } });
  t.strictSame(foldGoKeys({ cpu: { Cpus: '2', cpus: '1' } }, 'resources'), { cpu: { cpus: '1' } });
  // Structs: the later one is decoded into the earlier one.
  t.strictSame(foldGoKeys({ cpu: { cpus: '1', shares: 10 }, CPU: { Mems: '0', Shares: 20 } }, 'resources'), { cpu: { cpus: '1', shares: 20, mems: '0' } });
  // Maps: the other keys stay, each key's value is replaced.
  t.strictSame(foldGoKeys({ unified: { a: '1', b: '2' }, Unified: { b: '3' } }, 'resources'), { unified: { a: '1', b: '3' } });
  // Arrays: element by element into the earlier one, cut to the later length.
  t.strictSame(
    foldGoKeys({ devices: [{ allow: true, access: 'r' }, { allow: false }], Devices: [{ Allow: false }] }, 'resources'),
    { devices: [{ allow: false, access: 'r' }] },
  );
});

t.test('exec --process files are folded from the Process definition', async (t) => {
  const p = parseProcess('{"Args": ["/bin/true"], "CWD": "/", "User": {"UID": 7, "GID": 8}, "Env": ["A=B"]}', 'p.json');
  t.strictSame(p.args, ['/bin/true']);
  t.equal(p.cwd, '/');
  t.strictSame(p.user, { uid: 7, gid: 8 });
  t.strictSame(p.env, ['A=B'], 'env entries (array of strings) are untouched');
});

t.test('schema errors after folding name the field', async (t) => {
  const c = base();
  c.linux.resources = { CPU: { Cpus: 0 } };
  t.throws(() => loadConfig(bundle(t, c)), { message: 'config.json /linux/resources/cpu/cpus: must be a string, not an integer' });
});

t.test('the table: structs from properties, maps from additionalProperties; properties that differ only in case are refused', async (t) => {
  const { nodes, roots } = buildGoKeyTable();
  const cfg = nodes[roots.config!] as { p: Record<string, number> };
  t.ok('linux' in cfg.p && 'process' in cfg.p);
  t.strictSame(nodes[cfg.p.annotations!], { m: -1 }, 'annotations: a map of strings, nothing to fold inside');
  t.equal(cfg.p.hostname, -1, 'hostname: a string');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-gokeys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['config-schema.json', 'config-linux.json', 'defs.json']) {
    writeFileSync(join(dir, f), JSON.stringify({ $id: f, type: 'object', properties: { a: { type: 'string' }, A: { type: 'string' } }, definitions: { Process: {}, Resources: {} } }));
  }
  t.throws(() => buildGoKeyTable(dir), /properties a and A differ only in case/);
});
