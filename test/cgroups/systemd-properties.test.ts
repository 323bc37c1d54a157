// The systemd driver's pure parts: resources -> unit properties (runc's mapping), device rules ->
// DevicePolicy/DeviceAllow, org.systemd.property.* annotations read as GVariant text.
import t from 'tap';
import type { DeviceCgroup } from '../../src/spec/types.js';
import { annotationProperties, parseGVariant } from '../../src/cgroups/systemd/gvariant.js';
import { deviceProperties, rangeToBits, resourceProperties, unitProperties } from '../../src/cgroups/systemd/properties.js';

const byName = (props: { name: string; sig: string; value: unknown }[]) => Object.fromEntries(props.map((p) => [p.name, [p.sig, p.value]]));
const U64_MAX = 2n ** 64n - 1n;

t.test('a scope: Slice, Delegate, the pid, accounting, no default dependencies (runc Apply)', async (t) => {
  const p = unitProperties({ unit: 'runc-x.scope', slice: 'system.slice', description: 'tsrun container x', pid: 42, v2: true });
  t.same(p.map((x) => x.name), ['Description', 'Slice', 'Delegate', 'PIDs', 'MemoryAccounting', 'CPUAccounting', 'IOAccounting', 'TasksAccounting', 'DefaultDependencies']);
  t.same(byName(p).PIDs, ['au', [42]]);
  t.same(byName(p).DefaultDependencies, ['b', false]);
  const slice = unitProperties({ unit: 'x.slice', slice: 'machine.slice', description: 'd', pid: 0, v2: false });
  t.same(byName(slice).Wants, ['as', ['machine.slice']], 'a slice wants its parent');
  t.notOk('Delegate' in byName(slice));
  t.ok('BlockIOAccounting' in byName(slice), 'v1 says BlockIO');
});

t.test('v2 resources', async (t) => {
  const resources = {
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 },
    cpu: { shares: 1024, quota: 12345, period: 100000, cpus: '0-2,5', mems: '0' },
    pids: { limit: 0 },
    blockIO: { weight: 500 },
  };
  const p = byName(resourceProperties(resources, true, 252));
  t.same(p.MemoryMax, ['t', 64n << 20n]);
  t.same(p.MemoryLow, ['t', 32n << 20n]);
  t.same(p.MemorySwapMax, ['t', 64n << 20n], 'swap alone, as cgroup v2 counts it');
  t.same(p.CPUWeight, ['t', 39n], '1024 shares are weight 39 (runc 1.1)');
  t.same(p.CPUQuotaPeriodUSec, ['t', 100000n]);
  t.same(p.CPUQuotaPerSecUSec, ['t', 130000n], '12.345% rounds up to 13%');
  t.equal(resources.cpu?.quota, 12345, 'the files keep the quota asked for (runc 1.1)');
  t.same(p.TasksMax, ['t', 1n], 'systemd refuses 0');
  t.same(p.AllowedCPUs, ['ay', Uint8Array.from([0b100111])]);
  t.same(p.AllowedMemoryNodes, ['ay', Uint8Array.from([1])]);
  t.same(p.IOWeight, ['t', 4950n], 'blkio 500 is io.weight 4950');
  const old = byName(resourceProperties({ cpu: { cpus: '1', period: 50000 } }, true, 241));
  t.notOk('AllowedCPUs' in old, 'systemd < 244 has no AllowedCPUs');
  t.notOk('CPUQuotaPeriodUSec' in old, 'systemd < 242 has no CPUQuotaPeriodUSec');
  t.same(old.CPUQuotaPerSecUSec, ['t', U64_MAX], 'a period alone: no quota');
  t.same(byName(resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 } }, true, 252)), { MemoryMax: ['t', U64_MAX], MemorySwapMax: ['t', U64_MAX], TasksMax: ['t', U64_MAX] }, 'unlimited memory: unlimited swap');
});

t.test('v1 resources', async (t) => {
  const p = byName(resourceProperties({ memory: { limit: 1 << 20 }, cpu: { shares: 512 }, blockIO: { weight: 300 }, pids: { limit: 7 } }, false, 252));
  t.same(p, { MemoryLimit: ['t', 1n << 20n], CPUShares: ['t', 512n], BlockIOWeight: ['t', 300n], TasksMax: ['t', 7n] });
});

t.test('unified keys systemd has properties for', async (t) => {
  const r = { unified: { 'memory.high': '1000000', 'memory.min': 'max', 'pids.max': '0', 'cpu.max': '50000 100000', 'cpu.weight': '7', 'io.max': '8:0 rbps=1' } };
  const resources = structuredClone(r);
  const p = byName(resourceProperties(resources, true, 252));
  t.same(p.MemoryHigh, ['t', 1000000n]);
  t.same(p.MemoryMin, ['t', U64_MAX]);
  t.same(p.TasksMax, ['t', 1n]);
  t.same(p.CPUQuotaPerSecUSec, ['t', 500000n]);
  t.same(p.CPUWeight, ['t', 7n]);
  t.same(resources.unified, r.unified, 'files get every key');
  t.same(byName(resourceProperties({ unified: { 'cpu.idle': '1', 'cpu.weight': '7' } }, true, 252)), { CPUWeight: ['t', 0n] }, 'idle wins over weight');
  t.throws(() => resourceProperties({ unified: { 'memory.max': 'lots' } }, true, 252), /linux.resources.unified\["memory.max"\]: invalid value "lots"/);
});

t.test('devices: never stricter than the rules, which tsrun enforces exactly', async (t) => {
  const rules: DeviceCgroup[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 136, access: 'rw' },
    { allow: true, type: 'b', minor: 4, access: 'r' },
    { allow: true, type: 'a', access: 'm' },
  ];
  const p = deviceProperties(rules, 252);
  t.same(p[0], { name: 'DeviceAllow', sig: 'a(ss)', value: [] }, 'the list is cleared first');
  t.same(p[1], { name: 'DevicePolicy', sig: 's', value: 'strict' });
  t.same(p[2]!.value, [['/dev/char/1:3', 'rwm'], ['char-136', 'rw'], ['block-*', 'r'], ['char-*', 'm'], ['block-*', 'm']]);
  t.same(deviceProperties([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 9, access: 'rwm' }], 252),
    [{ name: 'DevicePolicy', sig: 's', value: 'auto' }, { name: 'DeviceAllow', sig: 'a(ss)', value: [] }], 'a deny list: systemd restricts nothing');
  t.same(deviceProperties([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, access: 'r' }], 239)[2]!.value, [['char-*', 'r']], 'old systemd: a major glob widens');
});

t.test('cpu lists to bitmasks', async (t) => {
  t.same(rangeToBits('0', 'f'), Uint8Array.from([1]));
  t.same(rangeToBits(' 8-9 ,, 1', 'f'), Uint8Array.from([2, 3]));
  t.throws(() => rangeToBits('3-1', 'linux.resources.cpu.cpus'), /linux.resources.cpu.cpus="3-1": invalid range "3-1"/);
  t.throws(() => rangeToBits('', 'f'), /empty value/);
  t.throws(() => rangeToBits('x', 'f'), /invalid range "x"/);
});

t.test('GVariant text', async (t) => {
  t.same(parseGVariant('uint64 123456789'), { sig: 't', value: 123456789n });
  t.same(parseGVariant("'inactive-or-failed'"), { sig: 's', value: 'inactive-or-failed' });
  t.same(parseGVariant('true'), { sig: 'b', value: true });
  t.same(parseGVariant('42'), { sig: 'i', value: 42 });
  t.same(parseGVariant('1.5'), { sig: 'd', value: 1.5 });
  t.same(parseGVariant("['a', \"b\"]"), { sig: 'as', value: ['a', 'b'] });
  t.same(parseGVariant('@as []'), { sig: 'as', value: [] });
  t.same(parseGVariant('[uint32 1, 2]'), { sig: 'au', value: [1, 2] });
  t.same(parseGVariant("('x', @t 5)"), { sig: '(st)', value: ['x', 5n] });
  t.same(parseGVariant("'it\\'s'"), { sig: 's', value: "it's" });
  t.throws(() => parseGVariant('[]'), /needs a type/);
  t.throws(() => parseGVariant('byte 300'), /out of range/);
  t.throws(() => parseGVariant("'open"), /unterminated/);
  t.throws(() => parseGVariant('[1, true]'), /boolean where i is wanted/);
});

t.test('org.systemd.property.* annotations (runc initSystemdProps)', async (t) => {
  const p = annotationProperties({
    'org.systemd.property.TimeoutStopSec': 'uint64 123',
    'org.systemd.property.CollectMode': "'inactive-or-failed'",
    'org.systemd.property.RuntimeMaxSec': '1.5',
    other: 'x',
  });
  t.same(p, [
    { name: 'TimeoutStopUSec', sig: 't', value: 123000000n },
    { name: 'CollectMode', sig: 's', value: 'inactive-or-failed' },
    { name: 'RuntimeMaxUSec', sig: 't', value: 1500000n },
  ]);
  t.throws(() => annotationProperties({ 'org.systemd.property.A1b': 'true' }), /annotation org.systemd.property.A1b name incorrect: contains non-alphabetic character/);
  t.throws(() => annotationProperties({ 'org.systemd.property.Ab': 'true' }), /name incorrect: too short/);
  t.throws(() => annotationProperties({ 'org.systemd.property.TimeoutStopSec': "'soon'" }), /value parse error: not a number/);
  t.throws(() => annotationProperties({ 'org.systemd.property.Foo': 'nonsense' }), /annotation org.systemd.property.Foo=nonsense value parse error/);
});
