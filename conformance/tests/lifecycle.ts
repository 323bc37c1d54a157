// runtime.md: state, lifecycle, operations and their errors.
import { readFileSync, writeFileSync, mkdirSync, rmdirSync, realpathSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from '../lib/suite.js';
import { nsOf, pidAlive, readText, sleepMs, isDir } from '../lib/util.js';

const S = 'lifecycle';

function cmdline(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
}

test(S, 'create makes a created container without running the program', ['rt.create.creates', 'rt.lifecycle.no-user-program', 'rt.create.args-not-applied', 'rt.state.status', 'rt.state.status-values', 'rt.state.pid'], (t) => {
  const b = t.bundle((c) => { c.process.args = ['/bin/probe', 'report']; });
  const { id, res, outFile } = t.create(b);
  t.must(res, 'create');
  const st = t.rt.state(id).state;
  t.equal(st?.status, 'created', 'status after create');
  t.ok(typeof st?.pid === 'number' && st.pid > 0, 'state has the pid of the container process while created', st?.pid);
  const pid = st?.pid as number;
  t.ok(pidAlive(pid), 'the container process (state pid) exists while created', pid);
  t.ok(!cmdline(pid).startsWith('/bin/probe report'), 'the container process has not executed process.args yet', cmdline(pid));
  sleepMs(100);
  t.ok(!readFileSync(outFile, 'utf8').includes('@@PROBE@@'), 'the user program produced no output before start');
});

test(S, 'create builds the runtime environment before start', ['rt.lifecycle.resources-created', 'rt.create.apply-all-but-process'], (t) => {
  const b = t.bundle((c) => { c.hostname = 'cf-created'; });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  const pid = t.rt.state(id).state?.pid as number;
  if (!pid) return t.abort('no pid in state');
  for (const ns of ['uts', 'ipc', 'net', 'mnt', 'pid']) {
    t.ok(nsOf(pid, ns) !== undefined && nsOf(pid, ns) !== t.host.hostNs(ns), `a new ${ns} namespace exists after create`, nsOf(pid, ns));
  }
  const h = spawnSync('nsenter', ['-t', String(pid), '-u', 'hostname'], { encoding: 'utf8' });
  t.equal(h.stdout.trim(), 'cf-created', 'hostname is set in the container UTS namespace at create');
  const mi = readText(`/proc/${pid}/mountinfo`) ?? '';
  t.ok(/ \/dev\/shm /.test(mi) && / \/proc /.test(mi), 'the configured mounts exist in the container mount namespace after create');
});

test(S, 'start runs the program and the status becomes running', ['rt.start.runs-program', 'rt.lifecycle.run-program', 'rt.state.status', 'rt.state.status-values', 'rt.state.pid', 'rt.scope.operations', 'rt.ops.support'], (t) => {
  const b = t.bundle((c) => { c.process.args = ['/bin/probe', 'report', '--pause']; });
  const { id, res, outFile } = t.create(b);
  t.must(res, 'create');
  const pid0 = t.rt.state(id).state?.pid;
  t.must(t.rt.start(id), 'start');
  const out = t.waitFile(outFile, '@@END@@');
  t.ok(out.includes('@@PROBE@@'), 'the user program ran after start');
  const st = t.rt.state(id).state;
  t.equal(st?.status, 'running', 'status while the program runs');
  t.equal(st?.pid, pid0, 'the state pid is the same process before and after start');
  t.ok(cmdline(st?.pid as number).startsWith('/bin/probe report --pause'), 'the state pid is the user program', cmdline(st?.pid as number));
  t.must(t.rt.kill(id, 'SIGKILL'), 'kill');
  t.equal(t.rt.waitStatus(id, 'stopped'), 'stopped', 'status after kill');
  t.must(t.rt.delete(id), 'delete');
  t.ok(t.rt.state(id).res.code !== 0, 'state fails after delete');
});

test(S, 'the status becomes stopped when the process exits', ['rt.state.status', 'rt.state.status-values'], (t) => {
  const b = t.bundle((c) => { c.process.args = ['/bin/probe', 'exit', '3']; });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  t.must(t.rt.start(id), 'start');
  t.equal(t.rt.waitStatus(id, 'stopped'), 'stopped', 'status after the process exited');
});

test(S, 'state document has the required properties', ['rt.state.ociVersion', 'rt.state.id', 'rt.state.bundle', 'rt.state.json', 'rt.query.returns-state', 'rt.state.annotations'], (t) => {
  const b = t.bundle((c) => { c.annotations = { 'org.example.conformance': 'yes', 'org.example.empty': '' }; });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  const r = t.rt.state(id);
  t.must(r.res, 'state');
  let doc: Record<string, unknown> | undefined;
  try {
    doc = JSON.parse(r.res.stdout);
  } catch {
    t.abort('state output is not JSON', r.res.stdout);
  }
  t.ok(typeof doc?.ociVersion === 'string' && /^\d+\.\d+\.\d+/.test(doc.ociVersion), 'ociVersion is a SemVer string', doc?.ociVersion);
  t.equal(doc?.id, id, 'id');
  t.ok(['created'].includes(doc?.status as string), 'status is a string naming the state', doc?.status);
  t.ok(Number.isInteger(doc?.pid), 'pid is an integer', doc?.pid);
  t.equal(doc?.bundle, realpathSync(b.dir), 'bundle is the absolute path of the bundle');
  t.ok(typeof doc?.bundle === 'string' && (doc.bundle as string).startsWith('/'), 'bundle is absolute', doc?.bundle);
  t.equal(doc?.annotations, { 'org.example.conformance': 'yes', 'org.example.empty': '' }, 'annotations of the config');
});

test(S, 'state without an id or of an unknown container fails', ['rt.query.no-id-error', 'rt.query.not-exist-error'], (t) => {
  t.mustFail(t.rt.run(['state']), 'state without an id');
  t.mustFail(t.rt.run(['state', 'cf-does-not-exist']), 'state of a container that does not exist');
});

test(S, 'create without an id or a bundle fails', ['rt.create.missing-args-error'], (t) => {
  const b = t.bundle();
  const empty = t.mkdir('empty');
  t.mustFail(t.rt.create('', b.dir, { noId: true, cwd: b.dir }), 'create without a container id');
  const id = t.id();
  t.mustFail(t.rt.create(id, '', { noBundle: true, cwd: empty }), 'create without a bundle path (cwd is not a bundle)');
  t.mustFail(t.rt.create(id, join(t.dir, 'no-such-bundle')), 'create with a bundle path that does not exist');
  t.ok(t.rt.state(id).res.code !== 0, 'no container was created');
});

test(S, 'create with an id already in use fails and leaves the first container alone', ['rt.create.id-not-unique', 'rt.state.id-unique'], (t) => {
  const b1 = t.bundle();
  const b2 = t.bundle();
  const { id, res } = t.create(b1);
  t.must(res, 'first create');
  const before = t.rt.state(id).state;
  const second = t.rt.create(id, b2.dir);
  t.mustFail(second, 'create with a duplicate id');
  const after = t.rt.state(id).state;
  t.equal(after?.pid, before?.pid, 'the existing container keeps its pid');
  t.equal(after?.bundle, before?.bundle, 'the existing container keeps its bundle');
  t.equal(after?.status, 'created', 'the existing container keeps its status');
});

test(S, 'create with an invalid id fails', ['rt.create.id-invalid'], (t) => {
  const b = t.bundle();
  for (const bad of ['../cf-escape', 'cf/slash', '..']) {
    const r = t.rt.create(bad, b.dir);
    if (r.code === 0) t.track(bad);
    t.mustFail(r, `create with id ${JSON.stringify(bad)}`);
  }
  t.ok(!existsSync(join(t.rt.root, '..', 'cf-escape')), 'nothing was created outside the state root');
});

test(S, 'a config that cannot be applied is an error and leaves nothing behind', ['rt.lifecycle.create-error', 'rt.create.cannot-apply-error', 'rt.errors.no-change'], (t) => {
  const cg = `cf-fail-${process.pid}-${Date.now()}`;
  const b = t.bundle((c) => {
    c.linux.cgroupsPath = `/${cg}`;
    c.mounts.push({ destination: '/cf-missing', type: 'none', source: join(t.dir, 'does-not-exist'), options: ['bind'] });
  });
  const { id, res } = t.create(b);
  t.mustFail(res, 'create with a bind mount whose source does not exist');
  t.ok(t.rt.state(id).res.code !== 0, 'no container exists after the failed create');
  for (const ctrl of ['memory', 'pids', 'cpu']) {
    if (t.host.v1.has(ctrl)) t.ok(!existsSync(`/sys/fs/cgroup/${ctrl}/${cg}`), `no ${ctrl} cgroup is left behind`);
  }
  if (t.host.cgroup === 'v2') t.ok(!existsSync(`/sys/fs/cgroup/${cg}`), 'no cgroup is left behind');
  const b2 = t.bundle((c) => { c.linux.sysctl = { 'kernel.cf_no_such_sysctl': '1' }; });
  const r2 = t.create(b2);
  t.mustFail(r2.res, 'create with a sysctl that does not exist');
  t.ok(t.rt.state(r2.id).res.code !== 0, 'no container exists after the failed create');
});

test(S, 'changing config.json after create has no effect', ['rt.lifecycle.config-updates'], (t) => {
  const b = t.bundle((c) => {
    c.process.env.push('CF_PHASE=create');
    c.process.args = ['/bin/probe', 'report', 'original'];
  });
  const { id, res, outFile } = t.create(b);
  t.must(res, 'create');
  b.config.process.env = ['CF_PHASE=edited'];
  b.config.process.args = ['/bin/probe', 'report', 'edited'];
  b.config.hostname = 'cf-edited';
  b.write();
  t.must(t.rt.start(id), 'start');
  t.rt.waitStatus(id, 'stopped');
  const out = readFileSync(outFile, 'utf8');
  const m = /@@PROBE@@([\s\S]*?)@@END@@/.exec(out);
  if (!m) return t.abort('no probe output', out);
  const p = JSON.parse(m[1]!);
  t.ok(p.env.includes('CF_PHASE=create'), 'environment as created', p.env);
  t.equal(p.args, ['/bin/probe', 'report', 'original'], 'args as created');
  t.equal(p.hostname, 'conformance', 'hostname as created');
});

test(S, 'start without an id or of an unknown container fails', ['rt.start.no-id-error', 'rt.start.not-created-error'], (t) => {
  t.mustFail(t.rt.run(['start']), 'start without an id');
  t.mustFail(t.rt.run(['start', 'cf-does-not-exist']), 'start of a container that does not exist');
});

test(S, 'start of a running container fails without effect', ['rt.start.not-created-error'], (t) => {
  const { id, pid } = t.running();
  t.mustFail(t.rt.start(id), 'second start');
  const st = t.rt.state(id).state;
  t.equal(st?.status, 'running', 'still running');
  t.equal(st?.pid, pid, 'same process');
});

test(S, 'start of a stopped container fails without effect', ['rt.start.not-created-error'], (t) => {
  const b = t.bundle((c) => { c.process.args = ['/bin/probe', 'report']; });
  const { id, res, outFile } = t.create(b);
  t.must(res, 'create');
  t.must(t.rt.start(id), 'start');
  t.equal(t.rt.waitStatus(id, 'stopped'), 'stopped', 'stopped');
  t.mustFail(t.rt.start(id), 'start of a stopped container');
  t.equal(t.rt.status(id), 'stopped', 'still stopped');
  sleepMs(50);
  t.equal((readFileSync(outFile, 'utf8').match(/@@PROBE@@/g) ?? []).length, 1, 'the program ran exactly once');
});

test(S, 'start fails when process is not set', ['rt.start.no-process-error', 'cfg.process.required-at-start'], (t) => {
  const b = t.bundle((c) => { delete c.process; });
  const { id, res } = t.create(b);
  if (res.code !== 0) {
    t.note('the runtime refused the config at create already');
    return;
  }
  t.mustFail(t.rt.start(id), 'start of a container without process');
});

test(S, 'kill without an id or of an unknown container fails', ['rt.kill.no-id-error', 'rt.kill.not-running-error'], (t) => {
  t.mustFail(t.rt.run(['kill']), 'kill without an id');
  t.mustFail(t.rt.run(['kill', 'cf-does-not-exist', 'SIGKILL']), 'kill of a container that does not exist');
});

for (const [sig, num] of [['SIGUSR1', 10], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
  test(S, `kill sends ${sig} to the container process`, ['rt.kill.sends-signal'], (t) => {
    const { id, outFile } = t.running(() => {}, ['/bin/probe', 'signals']);
    const ready = t.waitFile(outFile, '"ready"');
    if (!ready.includes('"ready"')) return t.abort('the probe did not become ready', ready);
    t.must(t.rt.kill(id, sig), `kill ${sig}`);
    const out = t.waitFile(outFile, '"signal"');
    t.ok(out.includes(`{"signal":${num}}`), `the process received ${sig} (${num})`, out);
    t.equal(t.rt.waitStatus(id, 'stopped'), 'stopped', 'stopped after the process handled the signal and exited');
  });
}

test(S, 'kill of a created container', ['rt.kill.sends-signal'], (t) => {
  const b = t.bundle();
  const { id, res } = t.create(b);
  t.must(res, 'create');
  t.must(t.rt.kill(id, 'SIGKILL'), 'kill SIGKILL of a created container');
  t.equal(t.rt.waitStatus(id, 'stopped'), 'stopped', 'stopped after SIGKILL');
});

test(S, 'kill of a stopped container fails without effect', ['rt.kill.not-running-error'], (t) => {
  const b = t.bundle((c) => { c.process.args = ['/bin/probe', 'exit', '0']; });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  t.must(t.rt.start(id), 'start');
  t.equal(t.rt.waitStatus(id, 'stopped'), 'stopped', 'stopped');
  t.mustFail(t.rt.kill(id, 'SIGKILL'), 'kill of a stopped container');
  t.equal(t.rt.status(id), 'stopped', 'still stopped');
});

test(S, 'delete without an id or of an unknown container fails', ['rt.delete.no-id-error', 'rt.delete.not-stopped-error'], (t) => {
  t.mustFail(t.rt.run(['delete']), 'delete without an id');
  t.mustFail(t.rt.run(['delete', 'cf-does-not-exist']), 'delete of a container that does not exist');
});

test(S, 'delete of a running container fails without effect', ['rt.delete.not-stopped-error'], (t) => {
  const { id, pid } = t.running();
  t.mustFail(t.rt.delete(id), 'delete (without --force) of a running container');
  const st = t.rt.state(id).state;
  t.equal(st?.status, 'running', 'still running');
  t.equal(st?.pid, pid, 'same process');
  t.ok(pidAlive(pid), 'process alive');
});

test(S, 'delete of a created container fails without effect', ['rt.delete.not-stopped-error'], (t) => {
  const b = t.bundle();
  const { id, res } = t.create(b);
  t.must(res, 'create');
  const pid = t.rt.state(id).state?.pid as number;
  t.mustFail(t.rt.delete(id), 'delete (without --force) of a created container');
  t.equal(t.rt.status(id), 'created', 'still created');
  t.ok(pidAlive(pid), 'the container process is still there');
});

test(S, 'delete removes the resources create made', ['rt.delete.resources', 'rt.lifecycle.destroy'], (t) => {
  const cg = `cf-del-${process.pid}-${Date.now()}`;
  const b = t.bundle((c) => { c.linux.cgroupsPath = `/${cg}`; });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  const pid = t.rt.state(id).state?.pid as number;
  // every hierarchy mounted under /sys/fs/cgroup (v1 controllers, named ones, the unified one)
  const roots = t.host.cgroup === 'v2' ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}`);
  const dirs = roots.map((r) => `${r}/${cg}`);
  const existing = dirs.filter((d) => isDir(d));
  t.ok(existing.length > 0, 'the container cgroup exists after create', dirs);
  t.must(t.rt.kill(id, 'SIGKILL'), 'kill');
  t.rt.waitStatus(id, 'stopped');
  t.must(t.rt.delete(id), 'delete');
  t.ok(t.rt.state(id).res.code !== 0, 'the container is gone (state fails)');
  t.ok(!pidAlive(pid), 'the container process is gone');
  for (const d of existing) t.ok(!existsSync(d), `cgroup ${d} removed`);
  const list = t.rt.run(['list', '-q']);
  if (list.code === 0) t.ok(!list.stdout.split('\n').includes(id), 'not listed any more');
});

test(S, 'delete keeps what the container did not create', ['rt.delete.not-created-by'], (t) => {
  const parent = `cf-parent-${process.pid}-${Date.now()}`;
  const ctrl = t.host.cgroup === 'v2' ? '' : 'memory';
  if (ctrl && !t.host.v1.has(ctrl)) t.skip('no memory cgroup controller');
  const pdir = ctrl ? `/sys/fs/cgroup/${ctrl}/${parent}` : `/sys/fs/cgroup/${parent}`;
  mkdirSync(pdir);
  t.defer(() => {
    // the runtime may have created the parent in other hierarchies too
    const all = t.host.cgroup === 'v2' ? [pdir] : [...t.host.v1].map((c) => `/sys/fs/cgroup/${c}/${parent}`);
    for (const d of all) {
      try { rmdirSync(join(d, 'child')); } catch { /* gone */ }
      try { rmdirSync(d); } catch { /* gone */ }
    }
  });
  const vol = t.mkdir('volume');
  writeFileSync(join(vol, 'keep'), 'data');
  const b = t.bundle((c) => {
    c.linux.cgroupsPath = `/${parent}/child`;
    c.mounts.push({ destination: '/cf-vol', type: 'none', source: vol, options: ['rbind', 'rw'] });
  });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  t.must(t.rt.kill(id, 'SIGKILL'), 'kill');
  t.rt.waitStatus(id, 'stopped');
  t.must(t.rt.delete(id), 'delete');
  t.ok(isDir(pdir), 'the pre-existing parent cgroup still exists');
  t.equal(readText(join(vol, 'keep')), 'data', 'the bind-mounted host directory and its content still exist');
  t.ok(existsSync(b.config.root.path + '/bin/probe'), 'the root filesystem is untouched');
});

test(S, 'the pid file holds the container process id', ['rt.state.pid'], (t) => {
  const b = t.bundle();
  const pidFile = join(t.dir, 'pidfile');
  const { id, res } = t.create(b, undefined, { pidFile });
  t.must(res, 'create --pid-file');
  const st = t.rt.state(id).state;
  t.equal(Number((readText(pidFile) ?? '').trim()), st?.pid, 'pid file content equals the state pid');
});

// ---- config.md: version, annotations, extensibility ------------------------------

const C = 'config';

test(C, 'an ociVersion that is not SemVer is an error', ['cfg.ociVersion.semver', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.ociVersion = 'not-a-version'; });
  t.mustFail(t.create(b).res, 'create with ociVersion "not-a-version"');
});

test(C, 'annotations that are not a map are an error', ['cfg.annotations.map', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.annotations = ['org.example.key=value']; });
  t.mustFail(t.create(b).res, 'create with annotations given as an array');
});

test(C, 'an empty annotation key is an error', ['cfg.annotations.key-nonempty', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.annotations = { '': 'value' }; });
  t.mustFail(t.create(b).res, 'create with an annotation whose key is ""');
});

test(C, 'a non-string annotation value is an error', ['cfg.annotations.values-strings', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.annotations = { 'org.example.number': 42 }; });
  t.mustFail(t.create(b).res, 'create with an annotation whose value is a number');
});

test(C, 'unknown annotation keys are accepted and kept', ['cfg.annotations.unknown-keys', 'rt.query.returns-state'], (t) => {
  const ann = { 'com.example.cf.unknown': 'v', 'org.opencontainers.image.os': 'linux' };
  const b = t.bundle((c) => { c.annotations = ann; });
  const { id, res } = t.create(b);
  t.must(res, 'create with unknown annotation keys');
  t.equal(t.rt.state(id).state?.annotations, ann, 'state reports the annotations');
});

test(C, 'unknown properties are ignored', ['cfg.extensibility.ignore-unknown', 'rt.lifecycle.create-env'], (t) => {
  const run = t.probe((c) => {
    c['com.example.cf.extension'] = { anything: [1, 2, 3] };
    c.process['com.example.cf.field'] = true;
    c.linux['com.example.cf.field'] = 'x';
    c.mounts[0]['com.example.cf.field'] = 1;
    c.hostname = 'cf-extensible';
  });
  t.equal(run.probe.hostname, 'cf-extensible', 'the container was created according to the known properties');
});
