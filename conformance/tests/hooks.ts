// config.md POSIX-platform Hooks and runtime.md lifecycle steps 3-13.
import { writeFileSync, mkdirSync, chmodSync, readFileSync, existsSync, rmSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { test, parseProbe, type T } from '../lib/suite.js';
import type { Config } from '../lib/bundle.js';
import { readText, nsOf, sleepMs } from '../lib/util.js';

const S = 'hooks';

/** A host-side hook: records its stdin, argv, env, namespaces and mountinfo under LOG/NAME.* */
function hostHook(t: T, dir: string): string {
  const rt = t.rt;
  const stateCmd = [rt.argv0, ...rt.baseArgs, '--root', rt.root].map((s) => `'${s}'`).join(' ');
  const p = join(dir, 'hook.sh');
  writeFileSync(p, `#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
name=$1; log=$2; code=\${3:-0}
cat > "$log/$name.stdin"
echo "$name" >> "$log/order"
for n in mnt uts net ipc pid; do echo "$n $(readlink /proc/self/ns/$n)"; done > "$log/$name.ns"
echo "$*" > "$log/$name.args"
echo "\${CF_ENV:-}" > "$log/$name.env"
cat /proc/self/mountinfo > "$log/$name.mountinfo"
if [ "\${4:-}" = checkstate ]; then
  id=$(sed -n 's/.*"id" *: *"\\([^"]*\\)".*/\\1/p' "$log/$name.stdin")
  timeout 10 ${stateCmd} state "$id" >/dev/null 2>&1; echo $? > "$log/$name.statecode"
fi
exit $code
`);
  chmodSync(p, 0o755);
  return p;
}

/** A hook inside the rootfs (for startContainer): writes to /cf-hooklog. Returns its container path. */
function containerHook(t: T, tag: string): string {
  const rel = `/cf-hooks/${tag}.sh`;
  const p = join(t.env.rootfs, rel);
  mkdirSync(join(t.env.rootfs, 'cf-hooks'), { recursive: true });
  writeFileSync(p, `#!/bin/sh
name=$1; log=/cf-hooklog; code=\${2:-0}
cat > "$log/$name.stdin"
echo "$name" >> "$log/order"
for n in mnt uts net ipc pid; do echo "$n $(readlink /proc/self/ns/$n)"; done > "$log/$name.ns"
exit $code
`);
  chmodSync(p, 0o755);
  t.defer(() => rmSync(p, { force: true }));
  return rel;
}

function hook(path: string, args: string[], env?: string[]) {
  return env ? { path, args, env } : { path, args };
}

function order(log: string): string[] {
  return (readText(join(log, 'order')) ?? '').split('\n').filter(Boolean);
}

function nsFile(log: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of (readText(join(log, `${name}.ns`)) ?? '').split('\n')) {
    const [k, v] = l.split(' ');
    if (k && v) out[k] = v;
  }
  return out;
}

interface Scenario {
  log: string;
  hookPath: string;
  startHookPath: string;
  afterCreate: string[];
  afterStart: string[];
  afterDelete: string[];
  containerNs: Record<string, string>;
  hostNs: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  probe?: Record<string, any>;
  bundle: string;
  bundleReal: string;
  id: string;
  error?: string;
}

let scenario: Scenario | undefined;

/** One container with every hook type, observed across create, start and delete (run once, shared by the tests). */
function runScenario(t: T): Scenario {
  if (scenario) return scenario;
  const log = join(t.env.work, 'hook-scenario');
  mkdirSync(log, { recursive: true });
  const tools = join(t.env.work, 'hook-scenario-tools');
  mkdirSync(tools, { recursive: true });
  const hp = hostHook(t, tools);
  const sp = containerHook(t, 'scenario');
  const b = t.bundle((c) => {
    c.annotations = { 'org.example.hooks': 'yes' };
    c.process.args = ['/bin/probe', 'report', '--stat', '/cf-hooklog/sc1.stdin'];
    c.mounts.push({ destination: '/cf-hooklog', type: 'none', source: log, options: ['rbind', 'rw'] });
    c.hooks = {
      prestart: [hook(hp, ['hook.sh', 'p1', log], ['CF_ENV=prestart-env'])],
      createRuntime: [hook(hp, ['hook.sh', 'cr1', log]), hook(hp, ['hook.sh', 'cr2', log])],
      createContainer: [hook(hp, ['hook.sh', 'cc1', log])],
      startContainer: [hook(sp, ['start.sh', 'sc1'])],
      poststart: [hook(hp, ['hook.sh', 'ps1', log])],
      poststop: [hook(hp, ['hook.sh', 'pt1', log, '0', 'checkstate']), hook(hp, ['hook.sh', 'pt2', log])],
    };
  });
  const hostNs: Record<string, string> = {};
  for (const n of ['mnt', 'uts', 'net', 'ipc', 'pid']) hostNs[n] = t.host.hostNs(n) ?? '';
  const sc: Scenario = { log, hookPath: hp, startHookPath: sp, afterCreate: [], afterStart: [], afterDelete: [], containerNs: {}, hostNs, bundle: b.dir, bundleReal: realpathSync(b.dir), id: '' };
  scenario = sc;
  const { id, res, outFile } = t.create(b);
  sc.id = id;
  if (res.code !== 0) {
    sc.error = `create failed: ${res.stderr.trim().slice(0, 500)}`;
    return sc;
  }
  sc.afterCreate = order(log);
  const pid = t.rt.state(id).state?.pid as number;
  for (const n of ['mnt', 'uts', 'net', 'ipc', 'pid']) sc.containerNs[n] = nsOf(pid, n) ?? '';
  const st = t.rt.start(id);
  sc.afterStart = order(log);
  if (st.code !== 0) {
    sc.error = `start failed: ${st.stderr.trim().slice(0, 500)}`;
    return sc;
  }
  t.rt.waitStatus(id, 'stopped');
  sc.probe = parseProbe(readFileSync(outFile, 'utf8'));
  const del = t.rt.delete(id);
  sc.afterDelete = order(log);
  if (del.code !== 0) sc.error = `delete failed: ${del.stderr.trim().slice(0, 500)}`;
  return sc;
}

function need(t: T, sc: Scenario): void {
  if (sc.error) return t.abort(`hook scenario: ${sc.error}`, order(sc.log));
}

test(S, 'prestart hooks run during create, before createRuntime, with their args and env', ['rt.lifecycle.prestart-invoked', 'cfg.hooks.prestart.when', 'cfg.hooks.prestart.before-createRuntime'], (t) => {
  const sc = runScenario(t);
  t.ok(sc.afterCreate.includes('p1'), 'prestart hook ran by the time create returned', sc.afterCreate);
  t.ok(sc.afterCreate.indexOf('p1') >= 0 && sc.afterCreate.indexOf('p1') < sc.afterCreate.indexOf('cr1'), 'prestart ran before createRuntime', sc.afterCreate);
  t.equal((readText(join(sc.log, 'p1.args')) ?? '').trim(), `p1 ${sc.log}`, 'hook argv[1..] as configured');
  t.equal((readText(join(sc.log, 'p1.env')) ?? '').trim(), 'prestart-env', 'hook environment as configured');
  need(t, sc);
});

test(S, 'createRuntime hooks run during create in the listed order', ['rt.lifecycle.createRuntime-invoked', 'cfg.hooks.createRuntime.when', 'cfg.hooks.order'], (t) => {
  const sc = runScenario(t);
  const a = sc.afterCreate;
  t.ok(a.includes('cr1') && a.includes('cr2'), 'both createRuntime hooks ran by the time create returned', a);
  t.ok(a.indexOf('cr1') < a.indexOf('cr2'), 'createRuntime hooks ran in the listed order', a);
  const pt = sc.afterDelete;
  t.ok(pt.indexOf('pt1') >= 0 && pt.indexOf('pt1') < pt.indexOf('pt2'), 'poststop hooks ran in the listed order', pt);
  need(t, sc);
});

test(S, 'createContainer hooks run during create, after createRuntime, before pivot_root', ['rt.lifecycle.createContainer-invoked', 'cfg.hooks.createContainer.when', 'cfg.hooks.createContainer.after-createRuntime'], (t) => {
  const sc = runScenario(t);
  const a = sc.afterCreate;
  t.ok(a.includes('cc1'), 'createContainer hook ran by the time create returned', a);
  t.ok(a.indexOf('cr2') >= 0 && a.indexOf('cr2') < a.indexOf('cc1'), 'createContainer ran after the createRuntime hooks', a);
  const mi = readText(join(sc.log, 'cc1.mountinfo')) ?? '';
  const rootfs = realpathSync(t.env.rootfs);
  t.ok(mi.includes(` ${rootfs}/dev/shm `) || mi.includes(` ${rootfs}/proc `), 'the hook saw the container mounts under the rootfs path (mounts done, pivot_root not yet)', rootfs);
  need(t, sc);
});

test(S, 'startContainer hooks run during start, before the user program', ['rt.lifecycle.startContainer-invoked', 'cfg.hooks.startContainer.when'], (t) => {
  const sc = runScenario(t);
  need(t, sc);
  t.ok(!sc.afterCreate.includes('sc1'), 'startContainer did not run during create', sc.afterCreate);
  t.ok(sc.afterStart.includes('sc1'), 'startContainer ran by the time start returned', sc.afterStart);
  const st = sc.probe?.stat?.[0];
  t.equal(st?.type, 'file', 'the user program saw the file the startContainer hook wrote (hook ran first)');
});

test(S, 'poststart hooks run before start returns', ['rt.lifecycle.poststart-invoked', 'cfg.hooks.poststart.when', 'rt.lifecycle.run-program'], (t) => {
  const sc = runScenario(t);
  need(t, sc);
  t.ok(!sc.afterCreate.includes('ps1'), 'poststart did not run during create', sc.afterCreate);
  t.ok(sc.afterStart.includes('ps1'), 'poststart ran by the time start returned', sc.afterStart);
  t.ok(sc.afterStart.indexOf('sc1') < sc.afterStart.indexOf('ps1'), 'poststart after startContainer', sc.afterStart);
  t.ok(sc.probe !== undefined, 'the user program ran');
});

test(S, 'poststop hooks run during delete, after the container is gone', ['rt.lifecycle.poststop-invoked', 'cfg.hooks.poststop.when', 'rt.lifecycle.destroy'], (t) => {
  const sc = runScenario(t);
  need(t, sc);
  t.ok(!sc.afterStart.includes('pt1'), 'poststop did not run before delete', sc.afterStart);
  t.ok(sc.afterDelete.includes('pt1') && sc.afterDelete.includes('pt2'), 'poststop hooks ran by the time delete returned', sc.afterDelete);
  const code = (readText(join(sc.log, 'pt1.statecode')) ?? '').trim();
  t.ok(code !== '' && code !== '0', 'inside the poststop hook, `state` of the container already fails (container deleted)', code);
});

test(S, 'hooks receive the container state on stdin', ['cfg.hooks.state-stdin', 'rt.state.pid'], (t) => {
  const sc = runScenario(t);
  for (const name of ['p1', 'cr1', 'cc1', 'ps1', 'pt1']) {
    const txt = readText(join(sc.log, `${name}.stdin`));
    let st: Record<string, unknown> | undefined;
    try {
      st = JSON.parse(txt ?? '');
    } catch {
      t.fail(`${name}: stdin is not a JSON state`, txt);
      continue;
    }
    t.equal(st?.id, sc.id, `${name}: state id`);
    t.equal(st?.bundle, sc.bundleReal, `${name}: state bundle`);
    t.ok(typeof st?.ociVersion === 'string', `${name}: state ociVersion`, st?.ociVersion);
    t.ok(typeof st?.status === 'string', `${name}: state status`, st?.status);
    t.equal((st?.annotations as Record<string, string> | undefined)?.['org.example.hooks'], 'yes', `${name}: state annotations`);
    if (name !== 'pt1') t.ok(Number.isInteger(st?.pid) && (st?.pid as number) > 0, `${name}: state pid (container is created or running)`, st?.pid);
  }
  need(t, sc);
});

for (const [name, tag] of [['prestart', 'p1'], ['createRuntime', 'cr1'], ['poststart', 'ps1'], ['poststop', 'pt1']] as const) {
  test(S, `${name} hooks resolve and run in the runtime namespace`, [`cfg.hooks.${name}.path`, `cfg.hooks.${name}.ns`], (t) => {
    const sc = runScenario(t);
    const ns = nsFile(sc.log, tag);
    t.ok(Object.keys(ns).length > 0, `the ${name} hook (a host path absent from the rootfs) was executed`);
    for (const n of ['uts', 'net', 'ipc']) t.equal(ns[n], sc.hostNs[n], `${name} hook ${n} namespace is the runtime's`);
    if (name !== 'poststop' && sc.containerNs.uts) t.ok(ns.uts !== sc.containerNs.uts, `${name} hook is not in the container uts namespace`);
    need(t, sc);
  });
}

test(S, 'createContainer hooks resolve in the runtime namespace and run in the container namespace', ['cfg.hooks.createContainer.path', 'cfg.hooks.createContainer.ns'], (t) => {
  const sc = runScenario(t);
  const ns = nsFile(sc.log, 'cc1');
  t.ok(Object.keys(ns).length > 0, 'the createContainer hook (a host path absent from the rootfs) was executed');
  for (const n of ['mnt', 'uts', 'net', 'ipc']) t.equal(ns[n], sc.containerNs[n], `createContainer hook ${n} namespace is the container's`);
  need(t, sc);
});

test(S, 'startContainer hooks resolve and run in the container namespace', ['cfg.hooks.startContainer.path', 'cfg.hooks.startContainer.ns'], (t) => {
  const sc = runScenario(t);
  t.ok(!existsSync(sc.startHookPath), 'the hook path does not exist on the host');
  const ns = nsFile(sc.log, 'sc1');
  t.ok(Object.keys(ns).length > 0, 'the startContainer hook (a path inside the rootfs only) was executed');
  for (const n of ['mnt', 'uts', 'net', 'ipc']) t.equal(ns[n], sc.containerNs[n], `startContainer hook ${n} namespace is the container's`);
  need(t, sc);
});

// ---- failing hooks ---------------------------------------------------------

function failingHookBundle(t: T, kind: string): { b: ReturnType<T['bundle']>; log: string } {
  const log = t.mkdir('log');
  const hp = hostHook(t, t.mkdir('tools'));
  const failing = kind === 'startContainer' ? hook(containerHook(t, `fail-${process.pid}`), ['start.sh', 'bad', '1']) : hook(hp, ['hook.sh', 'bad', log, '1']);
  const b = t.bundle((c: Config) => {
    c.process.args = ['/bin/probe', 'report'];
    c.mounts.push({ destination: '/cf-hooklog', type: 'none', source: log, options: ['rbind', 'rw'] });
    c.hooks = { poststop: [hook(hp, ['hook.sh', 'stop', log])] };
    c.hooks[kind] = [failing];
  });
  return { b, log };
}

for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
  test(S, `a failing ${kind} hook fails create and the container is destroyed`, [`rt.lifecycle.${kind}-fail`], (t) => {
    const { b, log } = failingHookBundle(t, kind);
    const { id, res, outFile } = t.create(b);
    t.ok(order(log).includes('bad'), `the ${kind} hook ran`, order(log));
    t.mustFail(res, `create with a failing ${kind} hook`);
    if (res.code !== 0) t.track(id);
    t.ok(t.rt.state(id).res.code !== 0, 'the container was destroyed (state fails)', t.rt.state(id).state?.status);
    t.ok(order(log).includes('stop'), 'the poststop hooks ran (lifecycle continued at step 12-13)', order(log));
    sleepMs(50);
    t.ok(!readFileSync(outFile, 'utf8').includes('@@PROBE@@'), 'the user program never ran');
  });
}

for (const kind of ['startContainer', 'poststart'] as const) {
  test(S, `a failing ${kind} hook fails start and the container is destroyed`, [`rt.lifecycle.${kind}-fail`], (t) => {
    const { b, log } = failingHookBundle(t, kind);
    const { id, res, outFile } = t.create(b);
    t.must(res, 'create');
    const st = t.rt.start(id);
    t.ok(order(log).includes('bad'), `the ${kind} hook ran`, order(log));
    t.mustFail(st, `start with a failing ${kind} hook`);
    const status = t.rt.waitStatus(id, 'gone', 3000);
    t.equal(status, 'gone', 'the container was stopped and destroyed (continue at step 12)');
    t.ok(order(log).includes('stop'), 'the poststop hooks ran (step 13)', order(log));
    if (kind === 'startContainer') t.ok(!readFileSync(outFile, 'utf8').includes('@@PROBE@@'), 'the user program never ran');
  });
}

test(S, 'a failing poststop hook does not stop delete or the remaining hooks', ['rt.lifecycle.poststop-fail', 'rt.warnings.continue'], (t) => {
  const log = t.mkdir('log');
  const hp = hostHook(t, t.mkdir('tools'));
  const b = t.bundle((c) => {
    c.process.args = ['/bin/probe', 'exit', '0'];
    c.hooks = { poststop: [hook(hp, ['hook.sh', 'bad', log, '1']), hook(hp, ['hook.sh', 'after', log])] };
  });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  t.must(t.rt.start(id), 'start');
  t.rt.waitStatus(id, 'stopped');
  const del = t.rt.delete(id);
  t.equal(del.code, 0, 'delete succeeds although a poststop hook failed');
  t.equal(order(log), ['bad', 'after'], 'the remaining poststop hooks ran');
  t.ok(t.rt.state(id).res.code !== 0, 'the container is gone');
});

test(S, 'a hook timeout of zero is an error', ['cfg.hooks.timeout-positive', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.hooks = { createRuntime: [{ path: '/bin/true', timeout: 0 }] }; });
  t.mustFail(t.create(b).res, 'create with hooks.createRuntime[0].timeout = 0');
});

test(S, 'a relative hook path is an error', ['cfg.hooks.path-absolute', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.hooks = { createRuntime: [{ path: 'bin/true' }] }; });
  t.mustFail(t.create(b, undefined, { cwd: '/' }).res, 'create with a relative hook path');
});
