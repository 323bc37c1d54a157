// Rootless podman: a non-root user with /etc/subuid and /etc/subgid ranges runs
// `podman --runtime <tsrun>`, and the same with runc as the control.
//
// Rootless podman runs the runtime as uid 0 of its own user namespace, with no
// --root and with XDG_RUNTIME_DIR set, so the runtime must (like runc) keep its
// state under $XDG_RUNTIME_DIR/<runtime>, skip the cgroup tree that is not
// delegated to it, and bind-mount devices instead of mknod()ing them.
//
// The user (tsrun-podman) gets its own HOME (podman's storage, vfs driver),
// XDG_RUNTIME_DIR (0700) and containers.conf (CONTAINERS_CONF), all in a temp
// dir; the busybox image is `podman import`ed into its storage from a tar of
// bundles/busybox/rootfs. On this host (cgroup v1, no systemd) podman needs
// the cgroupfs manager; `--cgroups disabled` is not needed: podman gives the
// runtime a cgroup path it cannot create, and the runtime skips it.
//
// A scenario passes when both runtimes pass it. When both fail with the same
// error (a host limit, e.g. no user namespaces, no newuidmap), the test
// asserts exactly that and prints the reason; any other failure fails.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, describeResult, type CmdResult } from './lib/cmd.js';
import { RuntimeLog } from './lib/check.js';
import { repoRoot, setUpOrExit, uniqueName, type Runtime } from './lib/setup.js';

const USER = 'tsrun-podman';
const WANT_UID = 1988;
/** Every podman command is bound by `timeout` (its whole process group) and, behind it, by cmd(). */
const CMD_TIMEOUT_S = 120;

// The test environment's settings, not about the runtime: podman's default nofile
// ulimit exceeds this host's hard limit; no network (no slirp4netns here); no systemd.
const CONTAINERS_CONF = `[containers]
default_ulimits = []
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

function sh(argv: string[]): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** The user, and its subordinate id ranges (useradd may have added them already: never twice). */
function ensureUser(): { uid: number; gid: number } {
  if (sh(['id', '-u', USER]).status !== 0) {
    let r = sh(['useradd', '-M', '-u', String(WANT_UID), '-s', '/bin/sh', USER]);
    if (r.status !== 0) r = sh(['useradd', '-M', '-s', '/bin/sh', USER]);
    if (r.status !== 0) throw new Error(`useradd ${USER}: ${r.out}`);
  }
  const uid = Number(sh(['id', '-u', USER]).out);
  const gid = Number(sh(['id', '-g', USER]).out);
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    const lines = (existsSync(f) ? readFileSync(f, 'utf8') : '').split('\n').filter((l) => l.trim());
    const mine = lines.filter((l) => l.startsWith(`${USER}:`) || l.startsWith(`${uid}:`));
    if (mine.length > 1) throw new Error(`${f} has ${mine.length} entries for ${USER} (${mine.join(', ')}): newuidmap refuses overlapping ranges; keep one`);
    if (mine.length === 1) continue;
    // After every range in use: overlapping ranges of two users are a setup error.
    const end = lines.reduce((m, l) => {
      const [, s, n] = l.split(':');
      return Math.max(m, Number(s) + Number(n) || 0);
    }, 100000);
    appendFileSync(f, `${USER}:${end}:65536\n`);
  }
  return { uid, gid };
}

// podman installed, bundles/busybox/rootfs built, the test user there
const { rts, extra: ids } = await setUpOrExit(['podman'], ensureUser);
for (const tool of ['/usr/bin/newuidmap', '/usr/bin/newgidmap']) {
  if (!existsSync(tool)) t.comment(`${tool} is missing (Debian uidmap): podman can map only the user's own id`);
}

// The user's world: HOME (podman's storage), XDG_RUNTIME_DIR (0700), containers.conf.
const dir = mkdtempSync(join(tmpdir(), 'tsrun-podman-rootless-'));
const home = join(dir, 'home');
const xdg = join(dir, 'xdg');
const logs = join(dir, 'logs');
const conf = join(dir, 'containers.conf');
const tar = join(dir, 'rootfs.tar');
const IMAGE = 'localhost/tsrun-busybox:latest';
for (const d of [home, xdg, logs]) mkdirSync(d);
writeFileSync(conf, CONTAINERS_CONF);
const mk = sh(['tar', '--numeric-owner', '--sort=name', '--exclude=./.tsrun-rootfs', '-C', join(repoRoot, 'bundles', 'busybox', 'rootfs'), '-cf', tar, '.']);
if (mk.status !== 0) {
  t.fail(`tar of bundles/busybox/rootfs: ${mk.out}`);
  process.exit(1);
}
for (const p of [dir, home, xdg, logs]) chownSync(p, ids.uid, ids.gid);
chmodSync(dir, 0o755);
chmodSync(xdg, 0o700);
chmodSync(conf, 0o644);
chmodSync(tar, 0o644);

t.teardown(async () => {
  await podman(['rm', '--all', '--force', '--time', '0']);
  // Rootless podman keeps a pause process holding its user namespace: ours, by its pid.
  const pause = join(xdg, 'libpod', 'tmp', 'pause.pid');
  const pid = existsSync(pause) ? Number(readFileSync(pause, 'utf8').trim()) : 0;
  if (pid > 1) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** podman as the user: `runuser -u USER -- env -i ... podman --storage-driver vfs --cgroup-manager cgroupfs ARGS`. */
function podman(args: string[], global: string[] = []): Promise<CmdResult> {
  return cmd(
    [
      'timeout', '-k', '5', String(CMD_TIMEOUT_S),
      'runuser', '-u', USER, '--',
      'env', '-i',
      'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      `HOME=${home}`, `USER=${USER}`, `LOGNAME=${USER}`,
      `XDG_RUNTIME_DIR=${xdg}`,
      `CONTAINERS_CONF=${conf}`,
      'podman', '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs',
      ...global,
      ...args,
    ],
    { timeoutMs: (CMD_TIMEOUT_S + 15) * 1000 },
  );
}

/**
 * podman's own error line(s) with what differs between two runtimes taken out
 * (the runtime's path and name, container ids, pids): equal for both runtimes
 * when podman failed for the same reason before or around the runtime.
 */
function reasonOf(r: CmdResult): string {
  const lines = r.stderr.split('\n').filter((l) => /^Error:|level=(error|fatal)/.test(l));
  let s = (lines.length ? lines : [r.timedOut ? 'timed out' : `exit ${r.code}`]).join('\n');
  for (const rt of rts) s = s.split(rt.path).join('<runtime>');
  return s
    .replace(/time="[^"]*"/g, '')
    .replace(/\b(tsrun|runc)\b/g, '<runtime>')
    .replace(/[0-9a-f]{64}/g, '<id>')
    .replace(/\b\d+\b/g, 'N')
    .trim();
}

// The image, imported by the user into its own storage.
const imported = await podman(['import', '-q', '--change', 'CMD ["/bin/sh"]', tar, IMAGE]);
const importOk = imported.code === 0 && !imported.timedOut;

interface Outcome {
  ok: boolean;
  /** What went wrong, for the message. */
  why: string;
  /** The command that went wrong (or the last one). */
  r: CmdResult;
  /** What the runtime said (its --log), when it went wrong. */
  said: string[];
}

interface Ctx {
  rt: Runtime;
  /** podman's global flags for this runtime: --runtime PATH and the runtime's --log. */
  global: string[];
  names: string[];
}

/** The runtime's state dir under the user's XDG_RUNTIME_DIR (what runc and tsrun default to there). */
const stateDir = (rt: Runtime) => join(xdg, rt.name);

function leftState(rt: Runtime, id: string): string[] {
  try {
    return readdirSync(stateDir(rt)).filter((e) => !id || e === id);
  } catch {
    return [];
  }
}

type Step = (c: Ctx) => Promise<{ ok: boolean; why: string; r: CmdResult }>;

function scenario(title: string, body: Step): void {
  t.test(`rootless podman: ${title}`, async (tt: Test) => {
    const out = new Map<Runtime['name'], Outcome>();
    for (const rt of rts) {
      const log = new RuntimeLog(join(logs, `${rt.name}.log`));
      log.mark();
      const c: Ctx = {
        rt,
        global: ['--runtime', rt.path, '--runtime-flag', `log=${log.path}`, '--runtime-flag', 'log-format=json'],
        names: [],
      };
      const o = await body(c);
      for (const n of c.names) await podman(['rm', '--force', '--time', '0', '--ignore', n], c.global);
      out.set(rt.name, { ...o, said: o.ok ? [] : log.since() });
    }
    const runc = out.get('runc')!;
    const tsrun = out.get('tsrun')!;
    const diag = (o: Outcome) => ({ why: o.why, ...describeResult(o.r), 'the runtime said': o.said });
    if (!importOk) {
      // Without the image nothing can run; a host that cannot do rootless podman at
      // all fails the import with the same error as the runs.
      const same = reasonOf(imported) === reasonOf(runc.r) && reasonOf(imported) === reasonOf(tsrun.r);
      tt.ok(same, `podman import as ${USER} failed${same ? ', as both runs do: a host limit' : ''}`, { import: describeResult(imported), runc: diag(runc), tsrun: diag(tsrun) });
      if (same) tt.comment(`host limit: rootless podman does not work here, whatever the runtime: ${imported.stderr.trim()}`);
      return;
    }
    if (runc.ok || tsrun.ok) {
      tt.ok(runc.ok, `[runc] ${title}${runc.ok ? '' : ' (the control failed: suspect the setup)'}`, runc.ok ? {} : diag(runc));
      tt.ok(tsrun.ok, `[tsrun] ${title}${tsrun.ok ? '' : runc.ok ? " (runc passed: the failure is tsrun's)" : ''}`, tsrun.ok ? {} : diag(tsrun));
      return;
    }
    // Both failed: acceptable only as one and the same host-level reason.
    const same = reasonOf(runc.r) === reasonOf(tsrun.r);
    tt.ok(same, `runc and tsrun both fail${same ? ' with the same error: a host limit, not tsrun' : ', differently'}`, { runc: diag(runc), tsrun: diag(tsrun) });
    if (same) tt.comment(`host limit: rootless podman cannot run "${title}" here with runc either: ${runc.r.stderr.trim()}`);
  });
}

function name(c: Ctx): string {
  const n = uniqueName('tsrun-rl');
  c.names.push(n);
  return n;
}

async function runRm(c: Ctx, argv: string[], expectCode: number, expectOut: RegExp, what: string) {
  const n = name(c);
  const cidfile = join(logs, `${n}.cid`);
  const r = await podman(['run', '--rm', '--name', n, '--cidfile', cidfile, '--network', 'none', IMAGE, ...argv], c.global);
  const id = existsSync(cidfile) ? readFileSync(cidfile, 'utf8').trim() : '';
  if (r.timedOut || r.code !== expectCode) return { ok: false, why: `${what}: exit ${r.timedOut ? 'timed out' : r.code}, want ${expectCode}`, r };
  if (!expectOut.test(r.stdout)) return { ok: false, why: `${what}: output ${JSON.stringify(r.stdout)} does not match ${expectOut}`, r };
  const left = id ? leftState(c.rt, id) : [];
  if (left.length) return { ok: false, why: `${what}: state left in ${stateDir(c.rt)}: ${left.join(', ')}`, r };
  return { ok: true, why: '', r };
}

scenario('run --rm echo it works', (c) => runRm(c, ['echo', 'it works'], 0, /^it works\n$/, 'run --rm echo it works'));

scenario('the exit code and the id maps (uid 0 is the user, 1.. its subuid range)', (c) =>
  runRm(c, ['sh', '-c', 'id -u; cat /proc/self/uid_map; exit 3'], 3, new RegExp(`^0\\n\\s*0\\s+${ids.uid}\\s+1\\n\\s*1\\s+\\d+\\s+\\d+\\n$`), 'run --rm sh -c exit 3'),
);

scenario('run -d, exec, rm --force', async (c) => {
  const n = name(c);
  const d = await podman(['run', '-d', '--name', n, '--network', 'none', IMAGE, 'sleep', '600'], c.global);
  if (d.code !== 0 || d.timedOut) return { ok: false, why: 'run -d: failed', r: d };
  const id = d.stdout.trim();
  const e = await podman(['exec', n, 'echo', 'exec works'], c.global);
  if (e.code !== 0 || e.stdout !== 'exec works\n') return { ok: false, why: 'exec: failed or wrong output', r: e };
  if (!leftState(c.rt, id).length) return { ok: false, why: `no state of the running container in ${stateDir(c.rt)}`, r: e };
  const rm = await podman(['rm', '--force', '--time', '0', n], c.global);
  if (rm.code !== 0) return { ok: false, why: 'rm --force: failed', r: rm };
  const left = leftState(c.rt, id);
  if (left.length) return { ok: false, why: `state left in ${stateDir(c.rt)}: ${left.join(', ')}`, r: rm };
  return { ok: true, why: '', r: rm };
});
