// What users of an engine see: podman and containerd (ctr, through containerd's runc v2 shim)
// driving each runtime, in the same run. The engines and the busybox image come from
// test/engines/setup.sh (Debian's podman 4.3 and containerd 1.6, offline, roots of their own).
//
// Every runtime is given to the engine as a copy of build/bench/rt-timer (bench/rt-timer.c)
// named like it, which runs the real runtime and logs each call's wall time: so a row has the
// engine command's whole time and, beside it, the part spent inside the runtime (the sum of
// its calls during that command). rt-timer's own start (~0.3 ms a call) is in the whole, the
// same for every runtime. crun runs, as everywhere in the bench, in a mount namespace without
// /sys/fs/cgroup/unified (rt-timer's hide-cgroup2, set up before its clock starts).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, rmdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from '../lib/context.js';
import { cgroupsNamed } from '../lib/host.js';
import { benchExec, repoRoot, workDir } from '../lib/paths.js';
import { rotate, type Runtime } from '../lib/runtimes.js';
import { add, row, type Row } from '../lib/stats.js';

interface Timed {
  rt: Runtime;
  /** What the engine is given as the runtime (rt-timer's copy). */
  path: string;
  log: string;
}

interface Call {
  wallMs: number;
  cpuMs: number;
  status: number;
  args: string;
}

function timed(rt: Runtime): Timed {
  const dir = join(workDir(), `engine-rt-${rt.name}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, rt.name);
  copyFileSync(join(repoRoot, 'build', 'bench', 'rt-timer'), path);
  const log = join(dir, 'calls.log');
  writeFileSync(`${path}.conf`, `${rt.bin}\n${log}\n${rt.hideCgroup2 ? 'hide-cgroup2\n' : ''}`);
  writeFileSync(log, '');
  return { rt, path, log };
}

function calls(t: Timed): Call[] {
  const text = readFileSync(t.log, 'utf8');
  truncateSync(t.log, 0);
  return text.split('\n').filter(Boolean).map((l) => {
    const f = l.split(' ');
    return { wallMs: Number(f[0]) / 1000, cpuMs: (Number(f[1]) + Number(f[2])) / 1000, status: Number(f[4]), args: f.slice(5).join(' ') };
  });
}

interface Result {
  ok: boolean;
  wallMs: number;
  stderr: string;
}

/** An engine command, timed by bench-exec (vfork+execve+wait4, nice -20) like the runtime commands. */
function engine(argv: string[], env: Record<string, string> = {}, timeoutS = 120): Result {
  const res = join(workDir(), 'tmp', `engine-${process.pid}`);
  const nice = process.env.BENCH_NICE ?? '-20';
  const r = spawnSync(benchExec(), ['-o', res, '-t', String(timeoutS), ...(nice !== '' ? ['-p', nice] : []), '--', ...argv], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let line = '';
  try {
    line = readFileSync(res, 'utf8').trim();
  } catch {
    // bench-exec failed
  }
  rmSync(res, { force: true });
  const f = line.split(' ').map(Number);
  const ok = r.status === 0 && f[0] === 0 && f[1] === 0;
  return { ok, wallMs: (f[2] ?? NaN) / 1000, stderr: (r.stderr ?? '').trim().slice(0, 300) };
}

function sh(argv: string[], env: Record<string, string> = {}, timeoutMs = 120_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim().slice(0, 300) };
}

export interface EngineRows {
  rows: Row[];
}

const sum = (cs: Call[]) => cs.reduce((a, c) => a + c.wallMs, 0);

function podmanScenario(ctx: Ctx, work: string, image: string, ts: Timed[], reps: number, rows: Row[]): void {
  const sec = 'Engines: podman 4.3 (conmon, cgroupfs), busybox image';
  const runWhole = row(sec, '`podman run --rm busybox true` (whole)', 'ms', true);
  const runRt = row(sec, '… of which in the runtime (its calls summed)', 'ms', true);
  const runCalls = row(sec, '… runtime calls per `podman run --rm`', 'count');
  const csrWhole = row(sec, '`podman create` + `podman start` + `podman rm` (whole, the three summed)', 'ms', true);
  const csrRt = row(sec, '… of which in the runtime', 'ms', true);
  rows.push(runWhole, runRt, runCalls, csrWhole, csrRt);
  const conf = join(workDir(), 'podman-containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\nnetns = "none"\n\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
  const env = { CONTAINERS_CONF: conf };
  const pm = (t: Timed, args: string[]) => [
    'podman', '--root', join(work, 'podman', 'root'), '--runroot', join(work, 'podman', 'runroot'),
    '--tmpdir', join(work, 'podman', 'tmp'), '--storage-driver', 'overlay', '--runtime', t.path, ...args,
  ];
  let n = 0;
  for (let i = -1; i < reps; i++) {
    for (const t of rotate(ts, Math.max(i, 0))) {
      const name = `tsrun-bench-${process.pid}-${++n}`;
      const r = engine(pm(t, ['run', '--rm', '--name', name, image, 'true']), env);
      const cs = calls(t);
      if (!r.ok) {
        ctx.problems.push(`podman run --rm with ${t.rt.name}: ${r.stderr}`);
        sh(pm(t, ['rm', '--force', '--ignore', name]), env);
        calls(t);
        continue;
      }
      if (i >= 0) {
        add(runWhole, t.rt.name, r.wallMs);
        add(runRt, t.rt.name, sum(cs));
        add(runCalls, t.rt.name, cs.length);
      }
      const name2 = `${name}-c`;
      const c = engine(pm(t, ['create', '--name', name2, image, 'true']), env);
      const s = c.ok ? engine(pm(t, ['start', name2]), env) : c;
      if (s.ok) sh(pm(t, ['wait', name2]), env);
      const d = engine(pm(t, ['rm', '--force', name2]), env);
      const cs2 = calls(t);
      if (!c.ok || !s.ok || !d.ok) {
        ctx.problems.push(`podman create/start/rm with ${t.rt.name}: ${[c, s, d].find((x) => !x.ok)?.stderr}`);
        continue;
      }
      if (i >= 0) {
        add(csrWhole, t.rt.name, c.wallMs + s.wallMs + d.wallMs);
        add(csrRt, t.rt.name, sum(cs2));
      }
    }
  }
  ctx.log(`engines: podman, ${reps} rounds`);
}

async function ctrScenario(ctx: Ctx, work: string, ts: Timed[], reps: number, rows: Row[]): Promise<void> {
  const sec = 'Engines: containerd 1.6 (`ctr`, runc v2 shim with `--runc-binary`), busybox image';
  const whole = row(sec, '`ctr run --rm busybox true` (whole)', 'ms', true);
  const rtRow = row(sec, '… of which in the runtime (its calls summed)', 'ms', true);
  const nCalls = row(sec, '… runtime calls per `ctr run --rm`', 'count');
  rows.push(whole, rtRow, nCalls);
  const dir = join(workDir(), 'containerd');
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'containerd.sock');
  const ns = `tsrun-bench-${process.pid}`;
  writeFileSync(join(dir, 'config.toml'), `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
`);
  const logFd = join(dir, 'containerd.log');
  const { spawn } = await import('node:child_process');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(logFd, 'a');
  const daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const ctr = (args: string[]) => ['ctr', '--address', sock, '--namespace', ns, ...args];
  try {
    const deadline = Date.now() + 30_000;
    while (!sh(ctr(['version']), {}, 5000).ok) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`containerd did not start (log: ${logFd})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const imp = sh(ctr(['images', 'import', '--all-platforms', join(work, 'image', 'oci.tar')]));
    if (!imp.ok) throw new Error(`ctr images import: ${imp.err}`);
    const image = readFileSync(join(work, 'image', 'NAME'), 'utf8').trim();
    let n = 0;
    for (let i = -1; i < reps; i++) {
      for (const t of rotate(ts, Math.max(i, 0))) {
        const id = `b${process.pid}-${++n}`;
        const r = engine(ctr(['run', '--rm', '--runc-binary', t.path, image, id, 'true']));
        const cs = calls(t);
        if (!r.ok) {
          ctx.problems.push(`ctr run --rm with ${t.rt.name}: ${r.stderr}`);
          sh(ctr(['task', 'delete', '--force', id]));
          sh(ctr(['container', 'delete', id]));
          continue;
        }
        if (i >= 0) {
          add(whole, t.rt.name, r.wallMs);
          add(rtRow, t.rt.name, sum(cs));
          add(nCalls, t.rt.name, cs.length);
        }
      }
    }
    sh(ctr(['images', 'rm', image]));
    ctx.log(`engines: containerd, ${reps} rounds`);
  } finally {
    daemon.kill('SIGTERM');
    await new Promise<void>((res) => {
      const k = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
      daemon.on('exit', () => { clearTimeout(k); res(); });
      if (daemon.exitCode !== null) { clearTimeout(k); res(); }
    });
    try {
      rmdirSync(`/run/containerd/runc/${ns}`);
    } catch {
      // not made
    }
    // The shim made the containers' cgroups under /<namespace> in every hierarchy; the
    // containers' own went with them, the namespace's stay behind empty.
    for (const dir of cgroupsNamed(ns)) {
      try {
        rmdirSync(dir);
      } catch {
        ctx.problems.push(`containerd left the cgroup ${dir} (not empty)`);
      }
    }
    sh(['umount', '-R', join(dir, 'state')]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The engine rows; skipped (with a problem noted) when the engines cannot be set up. */
export async function engines(ctx: Ctx, reps: number): Promise<Row[]> {
  const rows: Row[] = [];
  const setup = sh(['bash', join(repoRoot, 'test', 'engines', 'setup.sh'), 'podman', 'containerd'], {}, 15 * 60_000);
  if (!setup.ok) {
    ctx.problems.push(`engines skipped: test/engines/setup.sh podman containerd failed: ${setup.err}`);
    return rows;
  }
  const work = setup.out.trim().split('\n').pop()!;
  const image = readFileSync(join(work, 'image', 'NAME'), 'utf8').trim();
  const ts = ctx.runtimes.map(timed);
  podmanScenario(ctx, work, image, ts, reps, rows);
  await ctrScenario(ctx, work, ts, reps, rows);
  return rows;
}
