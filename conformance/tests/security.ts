// config-linux.md Seccomp and The Container Process State.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, memo, type T } from '../lib/suite.js';
import { readText, sleepMs } from '../lib/util.js';

const S = 'seccomp';
const ARCHS = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

test(S, 'a rule returns the configured errno, EPERM by default', ['cl.seccomp.defaultAction', 'cl.seccomp.names', 'cl.seccomp.action'], (t) => {
  const { probe } = t.probe((c) => {
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ARCHS,
      syscalls: [
        { names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' },
      ],
    };
  }, ['--syscall', 'getcwd', '--syscall', 'mkdir-tmp', '--syscall', 'getppid']);
  t.equal(probe.seccomp, '2', 'the process runs under a seccomp filter');
  t.equal(probe.syscalls[0]?.errno, 'EACCES', 'getcwd fails with errnoRet 13 (EACCES)');
  t.equal(probe.syscalls[1]?.errno, 'EPERM', 'mkdir fails with EPERM (no errnoRet)');
  t.equal(probe.syscalls[2]?.errno, 'OK', 'other syscalls follow defaultAction SCMP_ACT_ALLOW');
});

test(S, 'argument conditions select the calls a rule applies to', ['cl.seccomp.args'], (t) => {
  const { probe } = t.probe((c) => {
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ARCHS,
      syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 4242, op: 'SCMP_CMP_EQ' }] }],
    };
  }, ['--getpgid', '4242', '--getpgid', '0']);
  t.equal(probe.getpgid[0]?.errno, 'EACCES', 'getpgid(4242) matches the rule');
  t.equal(probe.getpgid[1]?.errno, 'OK', 'getpgid(0) does not');
});

test(S, 'defaultErrnoRet with an action that has no errno is an error', ['cl.seccomp.defaultErrnoRet-unsupported'], (t) => {
  const b = t.bundle((c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1, architectures: ARCHS, syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }] }; });
  t.mustFail(t.create(b).res, 'create with defaultAction SCMP_ACT_ALLOW and defaultErrnoRet 1');
});

test(S, 'errnoRet with an action that has no errno is an error', ['cl.seccomp.errnoRet-unsupported'], (t) => {
  const b = t.bundle((c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHS, syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }; });
  t.mustFail(t.create(b).res, 'create with a SCMP_ACT_KILL rule that has errnoRet 1');
});

test(S, 'a rule without syscall names is an error', ['cl.seccomp.names', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHS, syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }; });
  t.mustFail(t.create(b).res, 'create with syscalls[0].names = []');
});

test(S, 'listenerMetadata without listenerPath is an error', ['cl.seccomp.listenerMetadata-requires-path', 'cfg.valid-values'], (t) => {
  const b = t.bundle((c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'cf', architectures: ARCHS, syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }] }; });
  t.mustFail(t.create(b).res, 'create with listenerMetadata but no listenerPath');
});

test(S, 'a listener socket that cannot be reached is an error', ['cl.seccomp.listener.send-fail'], (t) => {
  const b = t.bundle((c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: join(t.dir, 'nobody-listens.sock'), architectures: ARCHS, syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_NOTIFY' }] }; });
  t.mustFail(t.create(b).res, 'create with SCMP_ACT_NOTIFY and a listenerPath nobody listens on');
});

/** start a host agent (fdrecv seccomp) on a fresh socket; returns [socket, output file] */
export function seccompAgent(t: T): [string, string] {
  const sock = join(t.dir, `agent-${Math.floor(Math.random() * 1e9)}.sock`);
  const out = join(t.dir, 'agent.out');
  const child = spawn(join(t.env.hostTools, 'fdrecv'), ['seccomp', sock, out], { stdio: 'ignore' });
  t.defer(() => child.kill('SIGKILL'));
  for (let i = 0; i < 500 && !existsSync(sock); i++) sleepMs(10);
  return [sock, out];
}

interface NotifyRun {
  id: string;
  statePid?: number;
  conns: { conn: number; stream: boolean; msgs: { fds: number; payload: string }[]; closed: boolean }[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  probe: Record<string, any>;
}

function notifyRun(t: T): NotifyRun {
  return memo('seccomp-notify', () => {
    const [sock, out] = seccompAgent(t);
    const b = t.bundle((c) => {
      c.process.args = ['/bin/probe', 'report', '--syscall', 'getpriority'];
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: sock,
        listenerMetadata: 'cf-metadata',
        architectures: ARCHS,
        syscalls: [{ names: ['getpriority'], action: 'SCMP_ACT_NOTIFY' }],
      };
    });
    const { id, res } = t.create(b);
    t.must(res, 'create with a seccomp listener');
    const statePid = t.rt.state(id).state?.pid as number | undefined;
    t.must(t.rt.start(id), 'start');
    const status = t.rt.waitStatus(id, 'stopped');
    if (status !== 'stopped') return t.abort('the container did not finish (a notified syscall may still be blocked)', status);
    const text = t.waitFile(out, '"closed":true', 3000);
    const conns = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const outFile = join(b.dir, `${id}.out`);
    const m = /@@PROBE@@([\s\S]*?)@@END@@/.exec(readText(outFile) ?? '');
    return { id, statePid, conns, probe: m ? JSON.parse(m[1]!) : {} };
  });
}

test(S, 'seccomp listener: one AF_UNIX stream connection, one state, then closed', ['cl.seccomp.listener.socket', 'cl.seccomp.listener.one-state', 'cl.seccomp.listener.close'], (t) => {
  const r = notifyRun(t);
  t.equal(r.conns.length, 1, 'exactly one connection to the listener');
  const c = r.conns[0];
  t.equal(c?.stream, true, 'the connection is a SOCK_STREAM AF_UNIX socket');
  t.equal(c?.closed, true, 'the runtime closed the connection');
  const payload = (c?.msgs ?? []).map((m) => m.payload).join('');
  let n = 0;
  try {
    JSON.parse(payload);
    n = 1;
  } catch {
    n = 0;
  }
  t.ok(n === 1, 'the connection carried exactly one JSON container process state', payload.slice(0, 300));
});

test(S, 'seccomp listener: the container process state and the seccomp fd', ['cl.procstate.json-scm-rights', 'cl.procstate.fds-first', 'cl.seccomp.listener.seccompFd', 'cl.procstate.ociVersion', 'cl.procstate.pid', 'cl.procstate.state'], (t) => {
  const r = notifyRun(t);
  const c = r.conns[0];
  if (!c) return t.abort("the runtime never connected to the listener");
  t.equal(c.msgs[0]?.fds, 1, 'the first message carries one fd (SCM_RIGHTS)');
  t.ok(c.msgs.slice(1).every((m) => m.fds === 0), 'no fd in later messages', c.msgs.map((m) => m.fds));
  let st: Record<string, any> = {};
  try {
    st = JSON.parse(c.msgs.map((m) => m.payload).join(''));
  } catch {
    t.abort('the payload is not JSON');
  }
  t.ok(typeof st.ociVersion === 'string', 'ociVersion', st.ociVersion);
  t.equal(st.fds, ['seccompFd'], 'fds names the seccomp fd');
  t.ok(Number.isInteger(st.pid) && st.pid > 0, 'pid', st.pid);
  if (r.statePid) t.equal(st.pid, r.statePid, 'pid is the container process as seen by the runtime');
  t.equal(st.metadata, 'cf-metadata', 'metadata is listenerMetadata');
  t.equal(st.state?.id, r.id, 'state.id');
  t.ok(typeof st.state?.bundle === 'string', 'state.bundle', st.state?.bundle);
  t.equal(r.probe.syscalls?.[0]?.errno, 'ENOSYS', 'with the listener gone, the notified syscall fails with ENOSYS');
});
