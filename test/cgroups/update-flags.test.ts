// runc `update` flags -> linux.resources, with go-units size parsing.
import t from 'tap';
import { parseRAMInBytes, resourcesFromUpdateFlags, UpdateFlagError } from '../../src/cgroups/update-flags.js';

t.test('sizes parse like go-units RAMInBytes (binary multiples)', async (t) => {
  const cases: Array<[string, number]> = [
    ['512', 512], ['512b', 512], ['512B', 512], ['512k', 524288], ['512K', 524288], ['512kb', 524288], ['512KiB', 524288],
    ['1m', 1048576], ['1g', 1073741824], ['1G', 1073741824], ['1 GiB', 1073741824], ['1.5g', 1610612736],
    ['2t', 2 * 1024 ** 4], ['0', 0], ['.5k', 512], ['1e3', 1000],
  ];
  for (const [s, n] of cases) t.equal(parseRAMInBytes(s), n, s);
  for (const [s, msg] of [
    ['abc', "invalid size: 'abc'"], ['', "invalid size: ''"], ['-5', "invalid size: '-5'"], ['1x', "invalid suffix: 'x'"],
    ['1kk', "invalid suffix: 'kk'"], ['1bb', "invalid suffix: 'bb'"], ['1kib2', "invalid size: '1kib2'"], ['1kibb', "invalid suffix: 'kibb'"],
    ['1.2.3k', "invalid size: '1.2.3k'"],
  ] as const) {
    t.throws(() => parseRAMInBytes(s), new UpdateFlagError(msg), s);
  }
});

t.test('only the flags given become resources', async (t) => {
  t.same(resourcesFromUpdateFlags({}), {});
  t.same(resourcesFromUpdateFlags({ memory: '', 'cpu-quota': undefined }), {}, 'empty strings are runc string flags left unset');
  t.same(resourcesFromUpdateFlags({ memory: '512m', 'memory-swap': '1g', 'memory-reservation': '256m' }), {
    memory: { limit: 536870912, swap: 1073741824, reservation: 268435456 },
  });
  t.same(resourcesFromUpdateFlags({ memory: '-1', 'memory-swap': '-1' }), { memory: { limit: -1, swap: -1 } });
  t.same(resourcesFromUpdateFlags({ 'kernel-memory': '64m', 'kernel-memory-tcp': '1m' }), { memory: { kernel: 67108864, kernelTCP: 1048576 } },
    'kept so that applying them warns that they are ignored');
});

t.test('cpu, cpuset, pids and blkio flags', async (t) => {
  t.same(resourcesFromUpdateFlags({
    'cpu-share': '512', 'cpu-quota': '-1', 'cpu-period': '100000', 'cpu-rt-period': '1000000', 'cpu-rt-runtime': '950000',
    'cpu-burst': '1000', 'cpu-idle': '1', 'cpuset-cpus': '0-1', 'cpuset-mems': '0', 'pids-limit': '100', 'blkio-weight': '300',
  }), {
    cpu: { shares: 512, quota: -1, period: 100000, realtimePeriod: 1000000, realtimeRuntime: 950000, burst: 1000, idle: 1, cpus: '0-1', mems: '0' },
    pids: { limit: 100 },
    blockIO: { weight: 300 },
  });
  t.same(resourcesFromUpdateFlags({ '--cpu-shares': '2048', pidsLimit: '-1' }), { cpu: { shares: 2048 }, pids: { limit: -1 } },
    'dashes, --cpu-shares and yargs camelCase are accepted');
  t.same(resourcesFromUpdateFlags({ 'blkio-weight': '0' }), {}, 'blkio weight 0 is unset (runc IntFlag default)');
});

t.test('bad values: one line naming the flag', async (t) => {
  t.throws(() => resourcesFromUpdateFlags({ memory: '12q' }), new UpdateFlagError("invalid value for memory: invalid suffix: 'q'"));
  t.throws(() => resourcesFromUpdateFlags({ 'memory-swap': '-2' }), new UpdateFlagError("invalid value for memory-swap: invalid size: '-2'"));
  t.throws(() => resourcesFromUpdateFlags({ 'cpu-period': '-5' }), new UpdateFlagError('invalid value for cpu-period: "-5" is not an unsigned integer'));
  t.throws(() => resourcesFromUpdateFlags({ 'cpu-quota': '1.5' }), new UpdateFlagError('invalid value for cpu-quota: "1.5" is not an integer'));
  t.throws(() => resourcesFromUpdateFlags({ 'pids-limit': 'many' }), /invalid value for pids-limit/);
  t.throws(() => resourcesFromUpdateFlags({ 'l3-cache-schema': 'L3:0=ff' }), new UpdateFlagError('Intel RDT/CAT: l3 cache schema is not enabled'));
  t.throws(() => resourcesFromUpdateFlags({ 'mem-bw-schema': 'MB:0=70' }), new UpdateFlagError('Intel RDT/MBA: memory bandwidth schema is not enabled'));
});
