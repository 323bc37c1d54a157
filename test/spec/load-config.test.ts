// loadConfig(): reading, JSON syntax errors with their position, schema errors worded with
// a JSON pointer, semantic errors, warnings.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { bundle, clone, type Loose, specModules, tempDir } from './fixtures/support.js';

const m = await specModules();
const { loadConfig, ConfigError, defaultSpec, locateJsonError } = m;

function base(): Loose {
  return clone(defaultSpec());
}

/** The message loadConfig throws for `config` (an object, or raw text). */
function failure(t: Test, config: unknown): string {
  const dir = bundle(t, config);
  try {
    loadConfig(dir);
  } catch (e) {
    t.type(e, ConfigError);
    return (e as Error).message;
  }
  t.fail('loadConfig accepted the config');
  return '';
}

t.test('a valid bundle loads', async (t) => {
  const dir = bundle(t, base());
  const spec = loadConfig(dir);
  t.equal(spec.ociVersion, '1.3.0');
  t.strictSame(spec.process?.args, ['sh']);
});

t.test('missing config.json or bundle', async (t) => {
  const dir = bundle(t);
  t.throws(() => loadConfig(dir), { message: `config.json: no such file in bundle ${dir}` });
  const gone = join(dir, 'nope');
  t.throws(() => loadConfig(gone), { message: `config.json: bundle directory ${gone} does not exist` });
  const isDir = bundle(t);
  const sub = join(isDir, 'config.json');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(sub);
  t.throws(() => loadConfig(isDir), /^config\.json: cannot read .*config\.json: EISDIR/);
});

t.test('JSON syntax errors say what and where', async (t) => {
  const cases: Array<[string, string]> = [
    ['{]', 'config.json: invalid JSON: expected a property name; unexpected character "]" at line 1 column 2'],
    ['{\n  "a": 1,\n  "b": [1, 2,]\n}', 'config.json: invalid JSON: trailing comma in array at line 3 column 14'],
    ['{\n  "a": 1,\n}', 'config.json: invalid JSON: trailing comma in object at line 3 column 1'],
    ['', 'config.json: invalid JSON: expected a value; unexpected end of input at line 1 column 1'],
    ['{"a": "x', 'config.json: invalid JSON: unterminated string at line 1 column 9'],
    ['{"a": tru}', 'config.json: invalid JSON: unexpected character "}" at line 1 column 10'],
    ['{} {}', 'config.json: invalid JSON: unexpected content after the JSON value: "{" at line 1 column 4'],
    ['{"a" 1}', 'config.json: invalid JSON: expected ":" after a property name; unexpected character "1" at line 1 column 6'],
    ['{"a": 01}', 'config.json: invalid JSON: expected "," or "}" in object; unexpected character "1" at line 1 column 8'],
    ['{"a": "\\q"}', 'config.json: invalid JSON: bad escape in string at line 1 column 8'],
    ['{"a": "\t"}', 'config.json: invalid JSON: control character in string (escape it) at line 1 column 8'],
    ['{"a": [1 2]}', 'config.json: invalid JSON: expected "," or "]" in array; unexpected character "2" at line 1 column 10'],
  ];
  for (const [text, msg] of cases) t.equal(failure(t, text), msg, JSON.stringify(text));
});

t.test('the JSON locator agrees with JSON.parse', async (t) => {
  const samples = ['{"a":1}', '[1,2,3]', '"x"', '-1.5e3', 'null', ' {"a":[{"b":null}],"c":"\\u00e9\\n"} ', '{]', '[1,]', '{"a":1,}', '01', '{"a":"\\x"}', '[', '{"a":1}}', 'nul', '1.', '-', '"\\ud800"'];
  for (const s of samples) {
    let parsed = true;
    try {
      JSON.parse(s);
    } catch {
      parsed = false;
    }
    t.equal(locateJsonError(s) === null, parsed, JSON.stringify(s));
  }
  // Node's V8 reports a position too: it is where the locator points.
  for (const s of ['{]', '[1,]', '{"a":1,}', '{"a":1}}', '{"a" 1}', '[1 2]']) {
    try {
      JSON.parse(s);
    } catch (e) {
      const pos = /position (\d+)/.exec((e as Error).message);
      if (pos) t.equal(locateJsonError(s)?.offset, Number(pos[1]), `offset of the error in ${s}`);
    }
  }
});

t.test('a byte-order mark is allowed', async (t) => {
  const dir = bundle(t, `\ufeff${JSON.stringify(base())}`);
  t.doesNotThrow(() => loadConfig(dir));
});

t.test('schema errors: pointer and wording', async (t) => {
  const c1 = base();
  c1.process.args = [];
  t.equal(failure(t, c1), 'config.json /process/args: must contain at least 1 item');

  const c2 = base();
  delete c2.process.cwd;
  t.equal(failure(t, c2), 'config.json /process/cwd: is required but missing');

  const c3 = base();
  delete c3.ociVersion;
  t.equal(failure(t, c3), 'config.json /ociVersion: is required but missing');

  const c4 = base();
  c4.linux.namespaces[2].type = 'net';
  t.equal(
    failure(t, c4),
    'config.json /linux/namespaces/2/type: must be one of "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"; got "net"',
  );

  const c5 = base();
  c5.process.user.uid = -1;
  t.equal(failure(t, c5), 'config.json /process/user/uid: must be at least 0; got -1');

  const c6 = base();
  c6.process.user.gid = 4294967296;
  t.equal(failure(t, c6), 'config.json /process/user/gid: must be at most 4294967295; got 4294967296');

  const c7 = base();
  c7.process.terminal = 'yes';
  t.equal(failure(t, c7), 'config.json /process/terminal: must be a boolean, not a string');

  const c8 = base();
  c8.process.rlimits[0].type = 'nofile';
  t.equal(failure(t, c8), 'config.json /process/rlimits/0/type: must be an rlimit name such as RLIMIT_NOFILE; got "nofile"');

  const c9 = base();
  c9.annotations = { 'a/b~c': 5 };
  t.equal(failure(t, c9), 'config.json /annotations/a~1b~0c: must be a string, not an integer');

  t.equal(failure(t, []), 'config.json: must be an object, not an array');

  const c10 = base();
  c10.linux.resources.hugepageLimits = [{ pageSize: '2mb', limit: 1 }];
  t.equal(
    failure(t, c10),
    'config.json /linux/resources/hugepageLimits/0/pageSize: must be a page size such as 64KB, 2MB or 1GB; got "2mb"',
  );

  const c11 = base();
  c11.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] };
  t.equal(failure(t, c11), 'config.json /hooks/prestart/0/timeout: must be at least 1; got 0');

  const c12 = base();
  c12.process.consoleSize = { height: 1.5, width: 2 };
  t.equal(failure(t, c12), 'config.json /process/consoleSize/height: must be an integer, not a number');

  const sc = (f: (s: Loose) => void): Loose => {
    const c = base();
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }] };
    f(c.linux.seccomp);
    return c;
  };
  t.equal(
    failure(t, sc((s) => (s.syscalls[0].action = 'SCMP_ACT_DENY'))),
    'config.json /linux/seccomp/syscalls/0/action: must be one of "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"; got "SCMP_ACT_DENY"',
  );
  t.equal(
    failure(t, sc((s) => (s.syscalls[0].args[0].op = '=='))),
    'config.json /linux/seccomp/syscalls/0/args/0/op: must be one of "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"; got "=="',
  );
  t.match(failure(t, sc((s) => (s.architectures = ['x86_64']))), /^config\.json \/linux\/seccomp\/architectures\/0: must be one of "SCMP_ARCH_X86", .*"SCMP_ARCH_RISCV64"; got "x86_64"$/);
  t.match(failure(t, sc((s) => (s.flags = ['TSYNC']))), /^config\.json \/linux\/seccomp\/flags\/0: must be one of "SECCOMP_FILTER_FLAG_TSYNC", .*; got "TSYNC"$/);
  t.equal(failure(t, sc((s) => delete s.defaultAction)), 'config.json /linux/seccomp/defaultAction: is required but missing');
});

t.test('semantic errors use the same form', async (t) => {
  const c = base();
  c.process.cwd = 'relative';
  t.equal(failure(t, c), 'config.json /process/cwd: must be an absolute path; got "relative"');
  const c2 = base();
  c2.root.path = 'missing';
  const dir = bundle(t, c2);
  t.throws(() => loadConfig(dir), { message: `config.json /root/path: rootfs ${join(dir, 'missing')} does not exist` });
});

t.test('ConfigError carries pointer and reason', async (t) => {
  const c = base();
  c.process.args = [];
  const dir = bundle(t, c);
  try {
    loadConfig(dir);
    t.fail('accepted');
  } catch (e) {
    const err = e as InstanceType<typeof ConfigError>;
    t.equal(err.name, 'ConfigError');
    t.equal(err.pointer, '/process/args');
    t.equal(err.reason, 'must contain at least 1 item');
  }
});

t.test('warnings go to the callback, in the same form', async (t) => {
  const c = base();
  c.mounts.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' });
  const dir = bundle(t, c);
  const warnings: string[] = [];
  loadConfig(dir, { warn: (w: string) => warnings.push(w) });
  t.strictSame(warnings, [
    'config.json /mounts/7/destination: relative destination "data" is deprecated; it is taken as relative to /',
  ]);
});

t.test('process.user defaults to root', async (t) => {
  const c = base();
  delete c.process.user;
  const spec = loadConfig(bundle(t, c));
  t.strictSame(spec.process?.user, { uid: 0, gid: 0 });
});

t.test('a config without a process is refused for create, accepted when not required', async (t) => {
  const c = base();
  delete c.process;
  const dir = bundle(t, c);
  t.throws(() => loadConfig(dir), { message: 'config.json /process: is required: the container needs a process to start' });
  t.doesNotThrow(() => loadConfig(dir, { requireProcess: false }));
});

t.test('root.path relative to the bundle, or absolute', async (t) => {
  const c = base();
  const dir = bundle(t, c);
  const abs = tempDir(t);
  c.root.path = abs;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  t.doesNotThrow(() => loadConfig(dir));
});
