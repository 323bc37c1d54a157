// config.md Process, POSIX process, Linux Process, User, Hostname/Domainname.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, parseProbe, type T } from '../lib/suite.js';
import { capNames, sortStrings, sleepMs, readText } from '../lib/util.js';

const S = 'process';

test(S, 'user uid and gid', ['cfg.user.uid', 'cfg.user.gid'], (t) => {
  const { probe } = t.probe((c) => { c.process.user = { uid: 1000, gid: 1001 }; });
  t.equal([probe.uid, probe.euid], [1000, 1000], 'real and effective uid');
  t.equal([probe.gid, probe.egid], [1001, 1001], 'real and effective gid');
});

test(S, 'additional gids', ['rt.lifecycle.run-program'], (t) => {
  const { probe } = t.probe((c) => { c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 1005] }; });
  const g = probe.groups as number[];
  t.ok(g.includes(5) && g.includes(1005), 'supplementary groups include additionalGids', g);
  t.ok(g.every((x) => [5, 1005, 1000].includes(x)), 'no other supplementary groups', g);
});

test(S, 'umask', ['rt.lifecycle.run-program'], (t) => {
  const { probe } = t.probe((c) => { c.process.user = { uid: 0, gid: 0, umask: 0o027 }; });
  t.equal(probe.umask, '0027', 'umask as configured');
});

test(S, 'cwd is the working directory of the process', ['cfg.process.cwd'], (t) => {
  const { probe } = t.probe((c) => { c.process.cwd = '/etc'; });
  t.equal(probe.cwd, '/etc', 'cwd');
});

test(S, 'a relative cwd is an error', ['cfg.process.cwd-absolute', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.process.cwd = 'etc'; });
  t.mustFail(t.create(b).res, 'create with process.cwd "etc"');
});

test(S, 'environment as configured', ['rt.start.runs-program', 'rt.lifecycle.run-program'], (t) => {
  const env = ['PATH=/usr/bin:/bin', 'HOME=/root', 'CF_A=1', 'CF_B=two words', 'CF_EMPTY='];
  const { probe } = t.probe((c) => { c.process.env = env; });
  for (const e of env) t.ok((probe.env as string[]).includes(e), `environment contains ${e}`, probe.env);
  const extra = (probe.env as string[]).filter((e) => !env.includes(e));
  if (extra.length) t.note(`extra variables added by the runtime: ${extra.join(' ')}`);
});

test(S, 'args: argv as configured, the first entry found like execvp', ['cfg.process.args', 'rt.start.runs-program'], (t) => {
  const { probe } = t.probe((c) => {
    c.process.env = ['PATH=/usr/bin:/bin'];
    c.process.args = ['probe', 'report', 'a b', ''];
  });
  t.equal(probe.args, ['probe', 'report', 'a b', ''], 'argv');
});

test(S, 'empty args is an error', ['cfg.process.args', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.process.args = []; });
  const { id, res } = t.create(b);
  if (res.code === 0) {
    t.mustFail(t.rt.start(id), 'start with empty process.args');
  } else {
    t.mustFail(res, 'create with empty process.args');
  }
});

test(S, 'rlimits are set as configured', ['cfg.rlimits.type', 'cfg.rlimits.getrlimit', 'cfg.rlimits.soft', 'cfg.rlimits.hard'], (t) => {
  const want: [string, number, number][] = [['RLIMIT_NOFILE', 256, 512], ['RLIMIT_NPROC', 1000, 2000], ['RLIMIT_CORE', 0, 1024], ['RLIMIT_MSGQUEUE', 4096, 8192]];
  const { probe } = t.probe((c) => { c.process.rlimits = want.map(([type, soft, hard]) => ({ type, soft, hard })); });
  for (const [type, soft, hard] of want) {
    const r = probe.rlimits[type];
    t.ok(r, `getrlimit(${type}) succeeds`);
    t.equal(r?.soft, String(soft), `${type} soft`);
    t.equal(r?.hard, String(hard), `${type} hard`);
  }
});

test(S, 'an unknown rlimit type is an error', ['cfg.rlimits.type-error'], (t) => {
  const b = t.bundle((c) => { c.process.rlimits = [{ type: 'RLIMIT_CF_UNKNOWN', soft: 1, hard: 1 }]; });
  t.mustFail(t.create(b).res, 'create with rlimit type RLIMIT_CF_UNKNOWN');
});

test(S, 'duplicate rlimit types are an error', ['cfg.rlimits.duplicate'], (t) => {
  const b = t.bundle((c) => { c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 100 }, { type: 'RLIMIT_NOFILE', soft: 200, hard: 200 }]; });
  t.mustFail(t.create(b).res, 'create with RLIMIT_NOFILE twice');
});

test(S, 'capabilities of a root process', ['rt.lifecycle.run-program'], (t) => {
  const bnd = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'];
  const inh = ['CAP_KILL'];
  const { probe } = t.probe((c) => {
    c.process.noNewPrivileges = false;
    c.process.capabilities = { bounding: bnd, permitted: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN'], inheritable: inh };
  });
  t.equal(sortStrings(capNames(probe.capBnd)), sortStrings(bnd), 'bounding set');
  t.equal(sortStrings(capNames(probe.capInh)), sortStrings(inh), 'inheritable set');
  // execve as uid 0 grants bounding|inheritable (capabilities(7), "Capabilities and execution of programs by root")
  t.equal(sortStrings(capNames(probe.capPrm)), sortStrings([...new Set([...bnd, ...inh])]), 'permitted set after execve as root');
});

test(S, 'capabilities of a non-root process', ['rt.lifecycle.run-program'], (t) => {
  const caps = {
    bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
    permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    effective: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
    inheritable: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'],
    ambient: ['CAP_NET_BIND_SERVICE'],
  };
  const { probe } = t.probe((c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = caps;
  });
  t.equal(sortStrings(capNames(probe.capBnd)), sortStrings(caps.bounding), 'bounding set');
  t.equal(sortStrings(capNames(probe.capInh)), sortStrings(caps.inheritable), 'inheritable set');
  t.equal(sortStrings(capNames(probe.capAmb)), caps.ambient, 'ambient set');
  // after execve of a file without capabilities, a non-root process keeps exactly its ambient set
  t.equal(sortStrings(capNames(probe.capPrm)), caps.ambient, 'permitted set after execve (= ambient)');
  t.equal(sortStrings(capNames(probe.capEff)), caps.ambient, 'effective set after execve (= ambient)');
});

test(S, 'capabilities that cannot be granted do not fail the container', ['cfg.caps.should-not-fail'], (t) => {
  const extra = ['CAP_CF_UNKNOWN'];
  if (!t.host.capSysResource) extra.push('CAP_SYS_RESOURCE');
  const run = t.probe((c) => {
    c.process.capabilities.bounding.push(...extra);
    c.process.capabilities.permitted.push(...extra);
  });
  t.ok(capNames(run.probe.capBnd).includes('CAP_KILL'), 'the grantable capabilities are there', run.probe.capBnd);
});

test(S, 'noNewPrivileges', ['rt.lifecycle.run-program'], (t) => {
  const on = t.probe((c) => { c.process.noNewPrivileges = true; }).probe;
  const off = t.probe((c) => { c.process.noNewPrivileges = false; }).probe;
  t.equal(on.noNewPrivs, '1', 'no_new_privs set when true');
  t.equal(off.noNewPrivs, '0', 'no_new_privs clear when false');
});

test(S, 'oomScoreAdj is set when configured', ['cfg.oomScoreAdj.set'], (t) => {
  const { probe } = t.probe((c) => { c.process.oomScoreAdj = 345; });
  t.equal(String(probe.oomScoreAdj).trim(), '345', 'oom_score_adj');
});

test(S, 'oomScoreAdj is inherited when not configured', ['cfg.oomScoreAdj.unset'], (t) => {
  const { probe } = t.probe(() => {}, [], { preamble: 'echo 123 > /proc/self/oom_score_adj' });
  t.equal(String(probe.oomScoreAdj).trim(), '123', "oom_score_adj is the runtime caller's value");
});

test(S, 'hostname and domainname', ['rt.create.apply-all-but-process', 'cl.ns.type.uts'], (t) => {
  const { probe } = t.probe((c) => {
    c.hostname = 'cf-host';
    c.domainname = 'cf.example';
  });
  t.equal(probe.hostname, 'cf-host', 'hostname');
  t.equal(probe.domainname, 'cf.example', 'domainname');
  t.ok(probe.ns.uts !== t.host.hostNs('uts'), 'in its own uts namespace');
});

test(S, 'scheduler policy', ['cfg.scheduler.policy'], (t) => {
  const { probe } = t.probe((c) => { c.process.scheduler = { policy: 'SCHED_BATCH' }; });
  t.equal(probe.schedPolicy, 3, 'sched_getscheduler() = SCHED_BATCH');
});

test(S, 'ioPriority', ['cfg.ioPriority.class', 'cfg.ioPriority.priority'], (t) => {
  const { probe } = t.probe((c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }; });
  t.equal(probe.ioprio, (2 << 13) | 6, 'ioprio_get() = BE/6');
});

test(S, 'only stdin, stdout and stderr are open in the process', ['rt.start.runs-program'], (t) => {
  const { probe } = t.probe(() => {});
  t.equal(Object.keys(probe.fds).sort(), ['0', '1', '2'], 'open file descriptors');
});

test(S, 'consoleSize is ignored without a terminal', ['cfg.process.consoleSize-ignored'], (t) => {
  const { probe } = t.probe((c) => {
    c.process.terminal = false;
    c.process.consoleSize = { height: 40, width: 120 };
  });
  t.equal([probe.tty.stdin, probe.tty.stdout], [false, false], 'no terminal');
});

function consoleRun(t: T, mutate: (c: Record<string, any>) => void) {
  const fdrecv = join(t.env.hostTools, 'fdrecv');
  const sock = join(t.dir, 'console.sock');
  const out = join(t.dir, 'console.out');
  const child = spawn(fdrecv, ['console', sock, out], { stdio: 'ignore' });
  t.defer(() => child.kill('SIGKILL'));
  for (let i = 0; i < 500 && !existsSync(sock); i++) sleepMs(10);
  const b = t.bundle((c) => {
    c.process.terminal = true;
    mutate(c);
  });
  const { id, res } = t.create(b, undefined, { consoleSocket: sock });
  t.must(res, 'create --console-socket');
  t.must(t.rt.start(id), 'start');
  t.rt.waitStatus(id, 'stopped');
  const text = t.waitFile(out, '@@END@@');
  const hdr = /@@FDRECV@@(\{.*\})/.exec(text);
  return { hdr: hdr ? JSON.parse(hdr[1]!) : undefined, probe: parseProbe(text), text };
}

test(S, 'terminal: the process gets a pty and /dev/console', ['cl.devices.default.console', 'rt.lifecycle.run-program'], (t) => {
  const r = consoleRun(t, (c) => {
    c.process.args = ['/bin/probe', 'report', '--stat', '/dev/console'];
    c.process.consoleSize = { height: 33, width: 111 };
  });
  t.equal(r.hdr?.fds, 1, 'the runtime sent one fd over the console socket');
  t.equal(r.hdr?.isatty, true, 'the fd is a terminal (pty master)');
  if (!r.probe) return t.abort('no probe report on the terminal', r.text.slice(0, 500));
  t.equal([r.probe.tty.stdin, r.probe.tty.stdout, r.probe.tty.stderr], [true, true, true], 'stdio are the terminal');
  const con = r.probe.stat[0];
  t.equal(con?.type, 'char', '/dev/console is a character device');
  t.equal(con?.major, 136, '/dev/console is the pty slave (major 136)');
  t.equal([r.probe.tty.rows, r.probe.tty.cols], [33, 111], 'consoleSize applied to the terminal');
});

for (const [what, key] of [['AppArmor', 'apparmorProfile'], ['SELinux', 'selinuxLabel']] as const) {
  test(S, `${what} process label`, ['rt.lifecycle.run-program'], (t) => {
    if (what === 'AppArmor' && !t.host.apparmor) t.skip('no AppArmor on this host');
    if (what === 'SELinux' && !t.host.selinux) t.skip('no SELinux on this host');
    const { probe } = t.probe((c) => { c.process[key] = what === 'AppArmor' ? 'unconfined' : 'system_u:system_r:container_t:s0'; }, ['--read', '/proc/self/attr/current']);
    t.ok(probe.read['/proc/self/attr/current']?.ok, 'label readable');
    void readText;
  });
}
