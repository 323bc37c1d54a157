// Seccomp as engines use it (class: syscall filtering that does not hold, e.g. a profile that
// fails to load or an action/argument rule compiled wrongly lets a container reach kernel
// attack surface such as kexec_load, add_key or userfaultfd). The default profile podman ships
// (containers-common's /usr/share/containers/seccomp.json), converted the way podman converts
// it, must load and deny what it denies with its errnos while normal work runs; every action,
// every argument operator and every filter flag must behave as the kernel documents it.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { describe, readOut, rt, stateOf, uniqueId, waitUntil } from '../helpers/index.js';
import { attackBin, attackBundle, jsonLines, kernelVersion, nothingLeft, podmanSeccomp, refused, runBundle } from './fixtures/lib.js';

const E = constants.errno;
const PROFILE = '/usr/share/containers/seccomp.json';
const ALLOW = 'SCMP_ACT_ALLOW';

/** Runs `attack` commands (one per line of output) in a container with this seccomp section. */
function withSeccomp(t: Test, seccomp: any, cmds: string[], patch?: (c: any) => void) {
  const b = attackBundle(t, (c) => {
    // one command runs directly: a shell makes syscalls of its own (getppid, getuid, ...)
    c.process.args = cmds.length === 1 ? ['/attack', ...cmds[0]!.split(' ')] : ['sh', '-c', cmds.map((x) => `/attack ${x}`).join('; ')];
    c.linux.seccomp = seccomp;
    patch?.(c);
  });
  return runBundle(t, b);
}

t.test('the podman default profile loads; what it denies fails with its errno, normal work runs', { skip: !existsSync(PROFILE) && `${PROFILE} missing (apt install golang-github-containers-common)` }, async (t) => {
  const profile = JSON.parse(readFileSync(PROFILE, 'utf8'));
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const seccomp = podmanSeccomp(profile, caps, kernelVersion());
  t.strictSame(seccomp.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'archMap became the native arch and its sub-architectures');
  t.equal(seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  t.equal(seccomp.defaultErrnoRet, E.ENOSYS, 'the profile denies unknown syscalls with ENOSYS');
  const cmds = [
    'sys getppid', // allowed
    'sys kexec_load 0 0 0 0', // explicit ERRNO rule, errnoRet 1
    'sys userfaultfd 0',
    'sys swapon 0 0',
    'sys add_key 0 0 0 0 0', // not in the profile: the default action
    'sys request_key 0 0 0 0',
    'sys personality 0xffffffff', // allowed with this argument only
    'sys personality 0x1234',
    'sys socket 16 3 9', // AF_NETLINK/NETLINK_AUDIT: allowed with CAP_AUDIT_WRITE in the bounding set
    'sys socket 2 1 0',
  ];
  const { r, json } = withSeccomp(t, seccomp, cmds, (c) => {
    c.process.args = ['sh', '-c', `echo busybox works; ls / >/dev/null && ${cmds.map((x) => `/attack ${x}`).join('; ')}`];
  });
  t.equal(r.status, 0, 'the container runs under the profile', { detail: describe(r) });
  t.match(readOut(r), /^busybox works$/m, 'a shell, echo and ls work');
  t.equal(json.length, cmds.length, 'every probe ran', { json });
  const [ppid, kexec, uffd, swapon, addKey, reqKey, persOk, persBad, audit, inet] = json;
  t.equal(ppid?.errno, 0, 'getppid is allowed');
  t.equal(kexec?.errno, E.EPERM, 'kexec_load: EPERM (the profile\'s errnoRet 1)');
  t.equal(uffd?.errno, E.EPERM, 'userfaultfd: EPERM');
  t.equal(swapon?.errno, E.EPERM, 'swapon: EPERM');
  t.equal(addKey?.errno, E.ENOSYS, 'add_key: ENOSYS (defaultErrnoRet)');
  t.equal(reqKey?.errno, E.ENOSYS, 'request_key: ENOSYS (defaultErrnoRet)');
  t.equal(persOk?.errno, 0, 'personality(0xffffffff) is allowed (argument rule)');
  t.equal(persBad?.errno, E.ENOSYS, 'personality(0x1234) is not (default action)');
  t.not(audit?.errno, E.EINVAL, 'with CAP_AUDIT_WRITE, the audit netlink socket is not refused by the profile');
  t.equal(inet?.errno, 0, 'an inet socket works');

  // the caps-dependent part, as podman generates it for a container without CAP_AUDIT_WRITE
  const noAudit = podmanSeccomp(profile, ['CAP_KILL'], kernelVersion());
  const two = withSeccomp(t, noAudit, ['sys socket 16 3 9', 'sys socket 2 1 0'], (c) => {
    c.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
  });
  t.equal(two.r.status, 0, 'runs', { detail: describe(two.r) });
  t.equal(two.json[0]?.errno, E.EINVAL, 'without CAP_AUDIT_WRITE the profile answers the audit socket with EINVAL (errnoRet 22, two-argument rule)');
  t.equal(two.json[1]?.errno, 0, 'other sockets still work (SCMP_CMP_NE rules)');
});

t.test('ERRNO: errnoRet is what the syscall returns; without errnoRet, EPERM', async (t) => {
  const { r, json } = withSeccomp(t, {
    defaultAction: ALLOW,
    syscalls: [
      { names: ['unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: E.EACCES },
      { names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: E.EOVERFLOW },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: E.EXDEV },
      { names: ['chroot'], action: 'SCMP_ACT_ERRNO' },
    ],
  }, ['sys unshare 0x10000000', 'sys keyctl 0 0', 'sys mount 0 0 0 0 0', 'sys chroot 0', 'sys getppid']);
  t.equal(r.status, 0, 'runs', { detail: describe(r) });
  t.equal(json[0]?.errno, E.EACCES, 'unshare(CLONE_NEWUSER) fails with the rule\'s errnoRet, not its own result');
  t.equal(json[1]?.errno, E.EOVERFLOW, 'keyctl: errnoRet');
  t.equal(json[2]?.errno, E.EXDEV, 'mount: errnoRet');
  t.equal(json[3]?.errno, E.EPERM, 'no errnoRet: EPERM');
  t.equal(json[4]?.errno, 0, 'other syscalls are allowed');
});

t.test('the executable is found under any filter that allows execve (no faccessat2, no access checks, no stat)', async (t) => {
  const deny = (names: string[]) => ({ defaultAction: ALLOW, syscalls: [{ names, action: 'SCMP_ACT_ERRNO' }] });
  const filters: Array<[string, string[]]> = [
    ['faccessat2', ['faccessat2']],
    ['faccessat2, faccessat, access', ['faccessat2', 'faccessat', 'access']],
    ['every access check and stat', ['faccessat2', 'faccessat', 'access', 'stat', 'lstat', 'newfstatat', 'statx', 'fstat']],
  ];
  for (const [what, names] of filters) {
    for (const nnp of [false, true]) {
      for (const [how, arg0] of [['absolute', '/bin/sh'], ['PATH', 'sh']] as const) {
        const b = attackBundle(t, (c) => {
          c.process.args = [arg0, '-c', 'echo ran'];
          c.process.noNewPrivileges = nnp;
          c.process.user = { uid: 1000, gid: 1000 };
          c.linux.seccomp = deny(names);
        });
        const { r } = runBundle(t, b);
        t.equal(r.status, 0, `without ${what}, noNewPrivileges ${nnp}, ${how} "${arg0}": runs`, { detail: describe(r) });
        t.equal(readOut(r), 'ran\n', 'the process ran');
      }
    }
  }
  // what the exec decides is still reported: a missing executable under the strictest filter
  const b = attackBundle(t, (c) => {
    c.process.args = ['no-such-program'];
    c.linux.seccomp = deny(filters[2]![1]);
  });
  const { r } = runBundle(t, b);
  t.not(r.status, 0, 'a missing executable fails');
  t.match(r.stderr, /no-such-program.*no such file or directory/, 'with ENOENT', { detail: describe(r) });
});

t.test('KILL_PROCESS kills the whole process, KILL_THREAD and KILL only the calling thread', async (t) => {
  const rule = (action: string) => ({ defaultAction: ALLOW, syscalls: [{ names: ['getpriority'], action }] });
  const p = withSeccomp(t, rule('SCMP_ACT_KILL_PROCESS'), ['thread-sys getpriority 0 0']);
  t.equal(p.r.status, 128 + constants.signals.SIGSYS, 'KILL_PROCESS: the process dies of SIGSYS', { detail: describe(p.r) });
  t.strictSame(p.json, [], 'KILL_PROCESS: nothing survives to print');
  for (const action of ['SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL']) {
    const k = withSeccomp(t, rule(action), ['thread-sys getpriority 0 0']);
    t.equal(k.r.status, 0, `${action}: the process goes on`, { detail: describe(k.r) });
    t.strictSame(k.json, [{ survived: true }], `${action}: only the calling thread died (it never printed its result)`);
  }
});

t.test('TRAP raises SIGSYS naming the syscall; TRACE without a tracer fails with ENOSYS', async (t) => {
  const { r, json } = withSeccomp(t, {
    defaultAction: ALLOW,
    syscalls: [
      { names: ['sysinfo'], action: 'SCMP_ACT_TRAP' },
      { names: ['getpriority'], action: 'SCMP_ACT_TRACE', errnoRet: E.EPERM },
    ],
  }, ['trap sysinfo buf', 'sys getpriority 0 0']);
  t.equal(r.status, 0, 'runs', { detail: describe(r) });
  t.strictSame(json[0], { sigsys: true, syscall: 99 }, 'SIGSYS with si_syscall = sysinfo (99 on x86_64)');
  t.equal(json[1]?.errno, E.ENOSYS, 'TRACE with no tracer attached: ENOSYS (seccomp(2))');
});

/** Kernel log lines of seccomp audit records (type 1326) for a command name. */
function auditLines(comm: string): string[] {
  const r = spawnSync('dmesg', [], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter((l) => l.includes('type=1326') && l.includes(`comm="${comm}"`));
}

t.test('LOG allows and logs; SECCOMP_FILTER_FLAG_LOG logs the other actions too', async (t) => {
  for (const flagged of [true, false]) {
    const comm = `s${Math.random().toString(36).slice(2, 10)}`;
    const b = attackBundle(t, (c) => {
      c.process.args = ['sh', '-c', `/${comm} sys getpgid 0; /${comm} sys getppid`];
      c.linux.seccomp = {
        defaultAction: ALLOW,
        ...(flagged ? { flags: ['SECCOMP_FILTER_FLAG_LOG'] } : {}),
        syscalls: [
          { names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 },
          { names: ['getppid'], action: 'SCMP_ACT_LOG' },
        ],
      };
    });
    copyFileSync(attackBin(), join(b.rootfs, comm));
    const { r, json } = runBundle(t, b);
    t.equal(r.status, 0, 'runs', { detail: describe(r) });
    t.equal(json[0]?.errno, 42, 'ERRNO still applies');
    t.equal(json[1]?.errno, 0, 'a LOG rule allows the syscall');
    // the kernel log may lag a little: wait for our lines (bounded)
    let lines: string[] = [];
    const isLog = (l: string) => /syscall=110 .*code=0x7ffc0000/.test(l);
    await waitUntil(() => (lines = auditLines(comm)).some(isLog), { timeoutMs: 3000 });
    const logged = lines.some(isLog);
    if (!logged) {
      t.comment('the kernel dropped the audit messages (printk rate limit): nothing to compare');
      continue;
    }
    t.ok(logged, `${flagged ? 'with' : 'without'} FLAG_LOG: the LOG action is logged (getppid, code 0x7ffc0000)`);
    const errnoLogged = lines.some((l) => /syscall=121 .*code=0x50000/.test(l));
    t.equal(errnoLogged, flagged, flagged ? 'FLAG_LOG: the ERRNO action is logged too' : 'without FLAG_LOG the ERRNO action is not logged');
  }
});

t.test('argument operators, every one, with 64-bit values', async (t) => {
  const BIG = 2 ** 32 + 1000; // 1000 in the low 32 bits: a runtime that truncates compares 1000
  const values = [999, 1000, 1001, BIG];
  const cases: Array<[string, number, number, number[]]> = [
    ['SCMP_CMP_EQ', 1000, 0, [1000]],
    ['SCMP_CMP_NE', 1000, 0, [999, 1001, BIG]],
    ['SCMP_CMP_LT', 1000, 0, [999]],
    ['SCMP_CMP_LE', 1000, 0, [999, 1000]],
    ['SCMP_CMP_GT', 1000, 0, [1001, BIG]],
    ['SCMP_CMP_GE', 1000, 0, [1000, 1001, BIG]],
  ];
  for (const [op, value, valueTwo, match] of cases) {
    const { r, json } = withSeccomp(t, {
      defaultAction: ALLOW,
      syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 42, args: [{ index: 0, value, valueTwo, op }] }],
    }, values.map((v) => `sys getpgid ${v}`));
    t.equal(r.status, 0, `${op}: runs`, { detail: describe(r) });
    const hit = values.filter((_, i) => json[i]?.errno === 42);
    t.strictSame(hit, match, `${op} ${value}: the rule matches exactly ${match.join(', ')}`);
  }
  // MASKED_EQ: value is the mask, valueTwo the value ((arg & value) == valueTwo), as runc and libseccomp
  const masked = [0x3ab, 0x1300, 0x3ff, 0x400];
  const { r, json } = withSeccomp(t, {
    defaultAction: ALLOW,
    syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 42, args: [{ index: 0, value: 0xff00, valueTwo: 0x300, op: 'SCMP_CMP_MASKED_EQ' }] }],
  }, masked.map((v) => `sys getpgid ${v}`));
  t.equal(r.status, 0, 'MASKED_EQ: runs', { detail: describe(r) });
  t.strictSame(masked.filter((_, i) => json[i]?.errno === 42), [0x3ab, 0x3ff], 'MASKED_EQ 0xff00/0x300 matches 0x3ab and 0x3ff only');
  // two conditions on one rule must both hold; one argument twice becomes one rule each (runc)
  const both = withSeccomp(t, {
    defaultAction: ALLOW,
    syscalls: [{ names: ['getpriority'], action: 'SCMP_ACT_ERRNO', errnoRet: 42, args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 1, value: 7, op: 'SCMP_CMP_EQ' }] }],
  }, ['sys getpriority 0 7', 'sys getpriority 0 0', 'sys getpriority 1 7']);
  t.strictSame(both.json.map((j) => j.errno === 42), [true, false, false], 'two argument conditions are ANDed');
});

t.test('flags: LOG, SPEC_ALLOW, TSYNC, WAIT_KILLABLE_RECV load and the filter applies', async (t) => {
  for (const flag of ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']) {
    const { r, json } = withSeccomp(t, {
      defaultAction: ALLOW,
      flags: [flag],
      syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 42 }],
    }, ['sys getpgid 0']);
    t.equal(r.status, 0, `${flag}: the filter loads`, { detail: describe(r) });
    t.equal(json[0]?.errno, 42, `${flag}: and applies`);
  }
});

/**
 * Starts the `attack listen` seccomp agent on a socket in the bundle and gives the bundle a
 * filter that sends getpgid to it (plus `extra` seccomp fields); returns the agent's output.
 */
async function withAgent(t: Test, b: ReturnType<typeof attackBundle>, extra: Record<string, unknown> = {}): Promise<() => string> {
  const sock = join(b.dir, 'agent.sock');
  const agent = spawn(attackBin(), ['listen', sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => agent.kill('SIGKILL'));
  let out = '';
  agent.stdout.on('data', (d) => (out += d));
  t.ok(await waitUntil(() => out.includes('listening')), 'the agent listens');
  const cfg = JSON.parse(readFileSync(b.configPath, 'utf8'));
  cfg.linux.seccomp = { defaultAction: ALLOW, listenerPath: sock, syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_NOTIFY' }], ...extra };
  writeFileSync(b.configPath, JSON.stringify(cfg));
  return () => out;
}

t.test('NOTIFY with TSYNC and WAIT_KILLABLE_RECV: the agent answers the syscall', async (t) => {
  const b = attackBundle(t, (c) => {
    c.process.args = ['/attack', 'sys', 'getpgid', '0'];
  });
  await withAgent(t, b, { flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] });
  const { r, json } = runBundle(t, b);
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.equal(json[0]?.errno, E.EOPNOTSUPP, 'getpgid got the agent\'s answer (EOPNOTSUPP)');
});

// With a user namespace the init forks (ffi/PLAN.md FORK) after the plan was sent: the state
// the listener gets must still name the process that runs, not the one tsrun spawned.
t.test('NOTIFY in a user namespace: the listener state names the container process', async (t) => {
  const b = attackBundle(t, (c) => {
    c.process.args = ['/attack', 'sys', 'getpgid', '0'];
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
  });
  const agentOut = await withAgent(t, b, { listenerMetadata: 'm1' });
  const { r, json } = runBundle(t, b);
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.equal(json[0]?.errno, E.EOPNOTSUPP, "getpgid got the agent's answer");
  t.ok(await waitUntil(() => agentOut().includes('notified')), 'the agent was notified', { out: agentOut() });
  const lines = jsonLines(agentOut());
  const state = lines.find((l) => 'state' in l)?.state;
  const notified = lines.find((l) => 'notified' in l)?.notified;
  t.match(state, { ociVersion: String, fds: ['seccompFd'], metadata: 'm1', state: { status: 'creating' } }, 'the container process state', { state });
  t.equal(state?.pid, notified, 'its pid is the process that made the syscall');
  t.equal(state?.state?.pid, notified, 'and so is the state\'s');
});

t.test("NOTIFY and exec: the listener state names the exec'd process and the container", async (t) => {
  const id = uniqueId(t);
  const b = attackBundle(t, (c) => {
    c.process.args = ['sh', '-c', 'echo started; exec sleep 1000'];
  });
  const agentOut = await withAgent(t, b);
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  t.equal(c.status, 0, 'create', { detail: describe(c) });
  t.teardown(() => void rt(t, ['delete', '--force', id]));
  t.equal(rt(t, ['start', id]).status, 0, 'start');
  const containerPid = stateOf(t, id)?.pid;
  const e = rt(t, ['exec', id, '/attack', 'sys', 'getpgid', '0']);
  t.equal(e.status, 0, 'exec', { detail: describe(e) });
  t.equal(jsonLines(e.stdout)[0]?.errno, E.EOPNOTSUPP, "the exec'd getpgid got the agent's answer");
  t.ok(await waitUntil(() => agentOut().includes('notified')), 'the agent was notified', { out: agentOut() });
  const lines = jsonLines(agentOut());
  const states = lines.filter((l) => 'state' in l).map((l) => l.state);
  const notified = lines.filter((l) => 'notified' in l).map((l) => l.notified);
  t.equal(states.length, 2, "two filters: the container's and the exec'd process's");
  t.ok(notified.includes(states[1]?.pid) && states[1]?.pid !== containerPid, "the exec's state names the exec'd process", { notified, states });
  t.equal(states[1]?.state?.pid, containerPid, 'and the container by its pid');
  t.equal(states[1]?.state?.status, 'running');
});

t.test('unknown actions, operators, architectures and flags: one clear line', async (t) => {
  const cases: Array<[string, any, RegExp]> = [
    ['action', { defaultAction: ALLOW, syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_BOGUS' }] }, /seccomp.*action|SCMP_ACT_BOGUS|allowed values/i],
    ['default action', { defaultAction: 'SCMP_ACT_BOGUS' }, /defaultAction|SCMP_ACT_BOGUS|allowed values/i],
    ['operator', { defaultAction: ALLOW, syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_BOGUS' }] }] }, /op|SCMP_CMP_BOGUS|allowed values/i],
    ['architecture', { defaultAction: ALLOW, architectures: ['SCMP_ARCH_BOGUS'] }, /architecture|SCMP_ARCH_BOGUS|allowed values/i],
    ['flag', { defaultAction: ALLOW, flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, /flag|SECCOMP_FILTER_FLAG_BOGUS|allowed values/i],
  ];
  for (const [what, seccomp, phrase] of cases) {
    const id = uniqueId(t);
    const b = attackBundle(t, (c) => {
      c.linux.seccomp = seccomp;
    });
    const r = rt(t, ['run', '--bundle', b.dir, id]);
    refused(t, r, id, phrase, `unknown ${what}`);
  }
});

t.test('a profile still in Docker format (archMap, includes, excludes) is not half-applied', { skip: !existsSync(PROFILE) && `${PROFILE} missing` }, async (t) => {
  const id = uniqueId(t);
  const b = attackBundle(t, (c) => {
    c.process.args = ['/attack', 'sys', 'add_key', '0', '0', '0', '0', '0'];
    c.linux.seccomp = JSON.parse(readFileSync(PROFILE, 'utf8'));
  });
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  if (r.status === 0) {
    // runc ignores the Docker-only fields: then the rules still deny
    t.equal(jsonLines(readOut(r))[0]?.errno, E.ENOSYS, 'the default action still applies');
  } else {
    t.equal(r.stderr.trim().split('\n').length, 1, 'refused with one line', { stderr: r.stderr });
  }
});

// What a static program and tsrun-init's last steps need (exec fifo, exec, libc start-up), all
// older than clone3 (435 on x86_64): the profile's largest syscall is well below it.
const BASE_ALLOW = [
  'read', 'write', 'openat', 'close', 'fstat', 'newfstatat', 'fcntl', 'execve', 'exit', 'exit_group', 'brk', 'mmap', 'munmap',
  'mprotect', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'readlink', 'uname', 'getrandom',
  'futex', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'ioctl', 'getppid', 'sigaltstack', 'madvise', 'lseek',
  // busybox sh running the probes one after the other
  'clone', 'fork', 'vfork', 'wait4', 'getpid', 'gettid', 'getuid', 'geteuid', 'getgid', 'getegid', 'getpgrp', 'setpgid',
  'dup2', 'dup3', 'pipe', 'pipe2', 'stat', 'lstat', 'statx', 'access', 'faccessat', 'getcwd', 'chdir', 'getdents64', 'kill',
];

// x86_64 numbers (attack knows these syscalls by number only)
const CLONE3 = 435;
const FACCESSAT2 = 439;

t.test('ENOSYS: syscalls newer than every syscall of the profile get ENOSYS, not the default action', async (t) => {
  const errnoDefault = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [{ names: BASE_ALLOW, action: ALLOW }] };
  const { r, json } = withSeccomp(t, errnoDefault, ['sys 1000 0xdeadbeef', `sys ${CLONE3} 0 0`, `sys ${FACCESSAT2} 0 0 0 0`, 'sys getpgid 0', 'sys getppid']);
  t.equal(r.status, 0, 'runs', { detail: describe(r) });
  t.equal(json[0]?.errno, E.ENOSYS, 'a number no kernel knows: ENOSYS (glibc and programs fall back)');
  t.equal(json[1]?.errno, E.ENOSYS, 'clone3, newer than the profile: ENOSYS, so glibc falls back to clone');
  t.equal(json[2]?.errno, E.ENOSYS, 'faccessat2: ENOSYS');
  t.equal(json[3]?.errno, E.EPERM, 'an older syscall the profile does not allow: still the default action (EPERM)');
  t.equal(json[4]?.errno, 0, 'allowed syscalls are allowed');

  // a KILL default kills for known syscalls only; a newer one is "not implemented"
  const kill = withSeccomp(t, { ...errnoDefault, defaultAction: 'SCMP_ACT_KILL_PROCESS' }, ['sys 1000']);
  t.equal(kill.r.status, 0, 'KILL_PROCESS default: an unknown syscall does not kill', { detail: describe(kill.r) });
  t.equal(kill.json[0]?.errno, E.ENOSYS, 'it returns ENOSYS');

  // explicit rules count: a profile that names clone3 decides it itself
  const named = withSeccomp(t, { ...errnoDefault, syscalls: [...errnoDefault.syscalls, { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: E.EXDEV }] }, [`sys ${CLONE3} 0 0`, 'sys 1000']);
  t.equal(named.json[0]?.errno, E.EXDEV, 'clone3 named in the profile: its rule applies');
  t.equal(named.json[1]?.errno, E.ENOSYS, 'beyond it: ENOSYS');

  // an ALLOW default needs no stub; an ERRNO default is what it says below the limit
  const allow = withSeccomp(t, { defaultAction: ALLOW, syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: E.EXDEV }] }, ['sys 1000', 'sys getpgid 0']);
  t.equal(allow.json[0]?.errno, E.ENOSYS, 'ALLOW default: the kernel\'s own ENOSYS');
  t.equal(allow.json[1]?.errno, E.EXDEV, 'and the rule applies');
});

t.test('startContainer hooks run under the container\'s seccomp filter (as runc)', async (t) => {
  for (const nnp of [true, false]) {
    const id = uniqueId(t);
    const b = attackBundle(t, (c) => {
      c.process.args = ['/attack', 'sys', 'getppid'];
      c.process.noNewPrivileges = nnp;
      c.linux.seccomp = { defaultAction: ALLOW, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }] };
      c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mkdir /tmp/from-hook'] }] };
    });
    const r = rt(t, ['run', '--bundle', b.dir, id]);
    t.not(r.status, 0, `noNewPrivileges ${nnp}: run fails`, { detail: describe(r) });
    t.match(r.stderr, new RegExp(`^tsrun: run ${id}: startContainer: error running hook /bin/sh: killed by signal SIGSYS \\(bad system call\\)\\n?$`), 'one line: the hook was killed by the filter');
    t.notOk(existsSync(join(b.rootfs, 'tmp', 'from-hook')), 'the hook\'s mkdir did not happen');
    nothingLeft(t, id, `noNewPrivileges ${nnp}`);
  }
});

t.test('NOTIFY: not for write(2), not as the default action (runc\'s rules and wording)', async (t) => {
  const cases: Array<[string, any, RegExp]> = [
    ['write', { defaultAction: ALLOW, listenerPath: '/nonexistent.sock', syscalls: [{ names: ['getpgid', 'write'], action: 'SCMP_ACT_NOTIFY' }] }, /syscalls\/0\/names\/1.*SCMP_ACT_NOTIFY cannot be used for the write syscall/],
    ['default', { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/nonexistent.sock' }, /defaultAction.*SCMP_ACT_NOTIFY cannot be used as default action/],
  ];
  for (const [what, seccomp, phrase] of cases) {
    const id = uniqueId(t);
    const b = attackBundle(t, (c) => {
      c.linux.seccomp = seccomp;
    });
    refused(t, rt(t, ['run', '--bundle', b.dir, id]), id, phrase, `NOTIFY ${what}`);
  }
});

t.test('NOTIFY with no agent listening: one line naming the step and the cause, nothing left', async (t) => {
  for (const [what, file] of [['missing socket', 'absent.sock'], ['not a socket', 'config.json']] as const) {
    const id = uniqueId(t);
    const b = attackBundle(t, (c) => {
      c.linux.seccomp = { defaultAction: ALLOW, listenerPath: '', syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_NOTIFY' }] };
    });
    const cfg = JSON.parse(readFileSync(b.configPath, 'utf8'));
    cfg.linux.seccomp.listenerPath = join(b.dir, file);
    writeFileSync(b.configPath, JSON.stringify(cfg));
    const cause = what === 'missing socket' ? /no such file or directory/i : /connection refused/i;
    const r = rt(t, ['run', '--bundle', b.dir, id]);
    refused(t, r, id, /failed to connect with seccomp agent specified in the seccomp profile/, what);
    t.match(r.stderr, new RegExp(join(b.dir, file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), `${what}: names the socket`);
    t.match(r.stderr, cause, `${what}: says why`);
  }
});
