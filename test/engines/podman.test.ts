// podman (Debian 4.3, conmon, cgroupfs manager) running containers through tsrun,
// each scenario once with tsrun and once with runc as the control: a failure
// with tsrun alone points at tsrun, a failure of both at the setup.
//
// The runtime is selected as docs/engines.md says: the [engine.runtimes] table
// of test/engines/config/containers.conf (`podman --runtime tsrun`), and the
// absolute path (`podman --runtime /path/to/tsrun`). Every runtime call also
// gets `--log FILE --log-format json` (podman --runtime-flag), whose errors are
// shown when an assertion fails.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, type CmdOptions, type CmdResult } from './lib/cmd.js';
import { Controls, expectExit, expectOutput, RuntimeLog, type Diagnostics } from './lib/check.js';
import { readHostFile } from './lib/host.js';
import { assertNoLeaks } from './lib/leaks.js';
import { setUpOrExit, snippet, uniqueName, type Runtime } from './lib/setup.js';

// The test environment's own settings (not about the runtime), put before the
// documented snippet: default_ulimits because podman's default nofile ulimit
// exceeds this host's hard limit; no network (no CNI config, no iptables); the
// cgroupfs manager and file events because there is no systemd.
const ENV_CONF = `[containers]
default_ulimits = []
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"

`;

const { prep, rts, tsrunPath } = await setUpOrExit(['podman']);

const dir = mkdtempSync(join(tmpdir(), 'tsrun-engines-podman-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const controls = new Controls();
const conf = join(dir, 'containers.conf');
writeFileSync(conf, ENV_CONF + snippet('containers.conf', tsrunPath));

/** Where each runtime keeps its state: podman passes no --root, so the runtime's default. */
const stateDir: Record<Runtime['name'], string> = { tsrun: '/run/tsrun', runc: '/run/runc' };

interface Ctx {
  t: Test;
  rt: Runtime;
  /** The --runtime value: a name from [engine.runtimes] (tsrun) or podman's built-in runc. */
  runtimeArg: string;
  log: RuntimeLog;
  names: string[];
  /** More diagnostics gathered on the way (shown with any failed assertion after). */
  extra: string[];
  diag: Diagnostics;
}

function podman(c: Ctx, args: string[], opts: CmdOptions & { runtimeArg?: string } = {}): Promise<CmdResult> {
  const w = join(prep.work, 'podman');
  return cmd(
    [
      'podman',
      '--root', join(w, 'root'),
      '--runroot', join(w, 'runroot'),
      '--tmpdir', join(w, 'tmp'),
      '--storage-driver', 'overlay',
      '--runtime', opts.runtimeArg ?? c.runtimeArg,
      '--runtime-flag', `log=${c.log.path}`,
      '--runtime-flag', 'log-format=json',
      ...args,
    ],
    { ...opts, env: { ...process.env, CONTAINERS_CONF: conf } },
  );
}

function scenario(title: string, body: (c: Ctx) => Promise<void>): void {
  for (const rt of rts) {
    t.test(`podman: ${title} [${rt.name}]`, async (tt) => {
      const log = new RuntimeLog(join(dir, `runtime-${rt.name}.log`));
      log.mark();
      const c: Ctx = {
        t: tt,
        rt,
        runtimeArg: rt.name === 'tsrun' ? 'tsrun' : 'runc',
        log,
        names: [],
        extra: [],
        diag: () => ({ ...controls.note(title, rt), [`${rt.name} said`]: log.since(), ...(c.extra.length ? { more: c.extra } : {}) }),
      };
      tt.teardown(async () => {
        for (const n of c.names) await podman(c, ['rm', '--force', '--time', '0', '--ignore', n], { timeoutMs: 60_000 });
      });
      await body(c);
      controls.record(title, rt, tt);
    });
  }
}

/** A container name registered for forced removal at the end of the scenario. */
function name(c: Ctx): string {
  const n = uniqueName('tsrun-e2e');
  c.names.push(n);
  return n;
}

/**
 * `podman run --rm` of a command; returns the result and the container id (from
 * --cidfile). When it does not exit `expect`, the same container is run again
 * detached and kept, and its log and podman's State.Error join the
 * diagnostics: what tsrun-init printed after create had returned (e.g. at the
 * exec fifo) goes to the container's stderr only, which `run --rm` loses.
 */
async function runRm(c: Ctx, expect: number, opts: string[], argv: string[], runtimeArg?: string): Promise<{ r: CmdResult; id: string }> {
  const n = name(c);
  const cidfile = join(dir, `${n}.cid`);
  const r = await podman(c, ['run', '--rm', '--name', n, '--cidfile', cidfile, ...opts, prep.image, ...argv], { runtimeArg });
  const id = existsSync(cidfile) ? readFileSync(cidfile, 'utf8').trim() : '';
  if (r.code !== expect) c.extra.push(...(await diagnoseRun(c, opts, argv, runtimeArg)));
  return { r, id };
}

async function diagnoseRun(c: Ctx, opts: string[], argv: string[], runtimeArg?: string): Promise<string[]> {
  const n = name(c);
  const out = [`re-ran detached as ${n} to see its output:`];
  const run = await podman(c, ['run', '-d', '--name', n, ...opts.filter((o) => o !== '-t'), prep.image, ...argv], { runtimeArg });
  out.push(`  podman run -d: exit ${run.code} ${run.stderr.trim()}`);
  await podman(c, ['wait', n], { timeoutMs: 20_000 });
  const logs = await podman(c, ['logs', n]);
  out.push(`  container output: ${JSON.stringify(logs.stdout + logs.stderr)}`);
  const st = await podman(c, ['inspect', '--format', 'exit={{.State.ExitCode}} error={{.State.Error}}', n]);
  out.push(`  state: ${st.stdout.trim()}`);
  return out;
}

async function noLeaks(c: Ctx, id: string): Promise<void> {
  if (!id) {
    c.t.fail('the container id is known (for the leak check)');
    return;
  }
  await assertNoLeaks(c.t, id, [stateDir[c.rt.name]]);
}

/** Waits (bounded) until `podman logs` shows `needle`. */
async function waitForLog(c: Ctx, n: string, needle: string): Promise<CmdResult> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await podman(c, ['logs', n]);
    if (r.stdout.includes(needle) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

const LOOP = 'while true; do sleep 0.1; done';

scenario('run --rm prints the output and returns the exit code', async (c) => {
  const { r, id } = await runRm(c, 42, [], ['sh', '-c', 'echo hello from the container; exit 42']);
  expectExit(c.t, r, 42, 'podman run --rm sh -c "...; exit 42"', c.diag);
  expectOutput(c.t, r, /^hello from the container$/m, 'the output', c.diag);
  await noLeaks(c, id);
});

scenario('run -d, exec, logs, stop, rm', async (c) => {
  const n = name(c);
  const run = await podman(c, ['run', '-d', '--name', n, prep.image, 'sh', '-c', `echo started; trap 'echo got TERM; exit 0' TERM; ${LOOP}`]);
  if (!expectExit(c.t, run, 0, 'podman run -d', c.diag)) return;
  const id = run.stdout.trim();
  const logs = await waitForLog(c, n, 'started');
  expectOutput(c.t, logs, /^started$/m, 'podman logs', c.diag);
  const ex = await podman(c, ['exec', n, 'sh', '-c', 'echo exec says hi; exit 3']);
  expectExit(c.t, ex, 3, 'podman exec sh -c "...; exit 3"', c.diag);
  expectOutput(c.t, ex, /^exec says hi$/m, 'podman exec output', c.diag);
  const stop = await podman(c, ['stop', '--time', '30', n]);
  expectExit(c.t, stop, 0, 'podman stop', c.diag);
  const code = await podman(c, ['inspect', '--format', '{{.State.ExitCode}}', n]);
  expectOutput(c.t, code, /^0$/m, 'the container exited 0 from its SIGTERM trap (stop sent SIGTERM)', c.diag);
  const after = await podman(c, ['logs', n]);
  expectOutput(c.t, after, /^got TERM$/m, 'the trap ran', c.diag);
  expectExit(c.t, await podman(c, ['rm', n]), 0, 'podman rm', c.diag);
  await noLeaks(c, id);
});

scenario('run -t gives the process a terminal (conmon console socket)', async (c) => {
  const { r, id } = await runRm(c, 5, ['-t'], ['sh', '-c', 'tty; [ -t 1 ] && echo stdout-is-a-tty; exit 5']);
  expectExit(c.t, r, 5, 'podman run -t', c.diag);
  expectOutput(c.t, r, /^\/dev\/pts\/\d+\r?$/m, 'tty names a pty', c.diag);
  expectOutput(c.t, r, /^stdout-is-a-tty\r$/m, 'stdout is the terminal (CRLF from the tty line discipline)', c.diag);
  await noLeaks(c, id);
});

scenario('--memory, --pids-limit, --cpus set the cgroup limits', async (c) => {
  const { r, id } = await runRm(c, 0, ['--memory', '64m', '--pids-limit', '17', '--cpus', '0.5'], [
    'sh',
    '-c',
    'cd /sys/fs/cgroup; echo mem=$(cat memory/memory.limit_in_bytes) pids=$(cat pids/pids.max) quota=$(cat cpu/cpu.cfs_quota_us) period=$(cat cpu/cpu.cfs_period_us)',
  ]);
  expectExit(c.t, r, 0, 'podman run --memory 64m --pids-limit 17 --cpus 0.5', c.diag);
  expectOutput(c.t, r, /^mem=67108864 pids=17 quota=50000 period=100000$/m, 'the limits seen in the container', c.diag);
  await noLeaks(c, id);
});

scenario('--cap-drop all --cap-add net_raw', async (c) => {
  const { r, id } = await runRm(c, 0, ['--cap-drop', 'all', '--cap-add', 'net_raw'], ['grep', '-E', '^Cap(Eff|Bnd)', '/proc/self/status']);
  expectExit(c.t, r, 0, 'podman run --cap-drop all --cap-add net_raw', c.diag);
  expectOutput(c.t, r, /^CapEff:\s+0000000000002000$/m, 'only CAP_NET_RAW effective', c.diag);
  expectOutput(c.t, r, /^CapBnd:\s+0000000000002000$/m, 'only CAP_NET_RAW in the bounding set', c.diag);
  await noLeaks(c, id);
});

scenario('--cap-drop chown --cap-add sys_time', async (c) => {
  const { r, id } = await runRm(c, 0, ['--cap-drop', 'chown', '--cap-add', 'sys_time'], ['grep', '^CapEff', '/proc/self/status']);
  expectExit(c.t, r, 0, 'podman run --cap-drop chown --cap-add sys_time', c.diag);
  const m = /^CapEff:\s+([0-9a-f]+)$/m.exec(r.stdout);
  const caps = m ? BigInt(`0x${m[1]}`) : -1n;
  c.t.ok(caps >= 0n && (caps & 1n) === 0n, 'CAP_CHOWN (bit 0) dropped', { stdout: r.stdout });
  c.t.ok(caps >= 0n && (caps & (1n << 25n)) !== 0n, 'CAP_SYS_TIME (bit 25) added', { stdout: r.stdout });
  c.t.ok(caps >= 0n && (caps & (1n << 21n)) === 0n, 'CAP_SYS_ADMIN (bit 21) not granted', { stdout: r.stdout });
  await noLeaks(c, id);
});

scenario('--read-only root with writable /tmp', async (c) => {
  const { r, id } = await runRm(c, 0, ['--read-only'], [
    'sh',
    '-c',
    'touch /probe 2>&1; touch /tmp/probe && echo tmp=ok; echo run-mode=$(stat -c %a /run)',
  ]);
  expectExit(c.t, r, 0, 'podman run --read-only', c.diag);
  expectOutput(c.t, r, /Read-only file system/, 'writing / fails', c.diag);
  expectOutput(c.t, r, /^tmp=ok$/m, '/tmp is writable (tmpfs)', c.diag);
  expectOutput(c.t, r, /^run-mode=755$/m, "/run's tmpfs keeps the image dir's mode (podman asks for tmpcopyup)", c.diag);
  await noLeaks(c, id);
});

scenario('--tmpfs starts with the image content (tmpcopyup)', async (c) => {
  const { r, id } = await runRm(c, 0, ['--tmpfs', '/home'], ['sh', '-c', 'grep -c " /home .* - tmpfs " /proc/self/mountinfo; ls -ln /home']);
  expectExit(c.t, r, 0, 'podman run --tmpfs /home', c.diag);
  expectOutput(c.t, r, /^1$/m, '/home is a tmpfs', c.diag);
  expectOutput(c.t, r, /^d\S+\s+\d+\s+1000\s+1000\s.*\suser$/m, "the image's /home/user (uid 1000) was copied up", c.diag);
  await noLeaks(c, id);
});

scenario('--user, --env, --workdir', async (c) => {
  const { r, id } = await runRm(c, 0, ['--user', '1000:1000', '--env', 'GREETING=hello world', '--workdir', '/tmp'], [
    'sh',
    '-c',
    'echo "uid=$(id -u) gid=$(id -g) env=$GREETING cwd=$(pwd)"',
  ]);
  expectExit(c.t, r, 0, 'podman run --user 1000:1000 --env --workdir /tmp', c.diag);
  expectOutput(c.t, r, /^uid=1000 gid=1000 env=hello world cwd=\/tmp$/m, 'user, environment and cwd', c.diag);
  await noLeaks(c, id);
});

scenario('pause and unpause freeze and thaw the container', async (c) => {
  const n = name(c);
  const run = await podman(c, ['run', '-d', '--name', n, prep.image, 'sh', '-c', `echo started; ${LOOP}`]);
  if (!expectExit(c.t, run, 0, 'podman run -d', c.diag)) return;
  const id = run.stdout.trim();
  await waitForLog(c, n, 'started');
  const freezer = `/sys/fs/cgroup/freezer/libpod_parent/libpod-${id}/freezer.state`;
  expectExit(c.t, await podman(c, ['pause', n]), 0, 'podman pause', c.diag);
  expectOutput(c.t, await podman(c, ['inspect', '--format', '{{.State.Status}}', n]), /^paused$/m, 'podman sees it paused', c.diag);
  c.t.equal(readHostFile(freezer), 'FROZEN', `${freezer} is FROZEN`);
  expectExit(c.t, await podman(c, ['unpause', n]), 0, 'podman unpause', c.diag);
  expectOutput(c.t, await podman(c, ['inspect', '--format', '{{.State.Status}}', n]), /^running$/m, 'podman sees it running', c.diag);
  c.t.equal(readHostFile(freezer), 'THAWED', `${freezer} is THAWED`);
  const ex = await podman(c, ['exec', n, 'echo', 'alive']);
  expectOutput(c.t, ex, /^alive$/m, 'exec works after unpause', c.diag);
  expectExit(c.t, await podman(c, ['rm', '--force', '--time', '0', n]), 0, 'podman rm --force', c.diag);
  await noLeaks(c, id);
});

scenario('top and stats --no-stream', async (c) => {
  const n = name(c);
  const run = await podman(c, ['run', '-d', '--name', n, prep.image, 'sleep', '1000']);
  if (!expectExit(c.t, run, 0, 'podman run -d', c.diag)) return;
  const id = run.stdout.trim();
  const top = await podman(c, ['top', n, 'pid', 'args']);
  expectExit(c.t, top, 0, 'podman top', c.diag);
  expectOutput(c.t, top, /^\s*1\s+sleep 1000\s*$/m, 'top lists pid 1 sleep 1000', c.diag);
  const stats = await podman(c, ['stats', '--no-stream', '--format', '{{.Name}}|{{.PIDs}}|{{.MemUsage}}', n]);
  expectExit(c.t, stats, 0, 'podman stats --no-stream', c.diag);
  expectOutput(c.t, stats, new RegExp(`^${n}\\|1\\|[1-9][0-9.]*[kMG]?B / `, 'm'), 'stats: the name, 1 pid, some memory in use', c.diag);
  expectExit(c.t, await podman(c, ['rm', '--force', '--time', '0', n]), 0, 'podman rm --force', c.diag);
  await noLeaks(c, id);
});

scenario('kill delivers signals', async (c) => {
  const n = name(c);
  const run = await podman(c, ['run', '-d', '--name', n, prep.image, 'sh', '-c', `trap 'echo got USR1' USR1; echo started; ${LOOP}`]);
  if (!expectExit(c.t, run, 0, 'podman run -d', c.diag)) return;
  const id = run.stdout.trim();
  await waitForLog(c, n, 'started');
  expectExit(c.t, await podman(c, ['kill', '--signal', 'USR1', n]), 0, 'podman kill --signal USR1', c.diag);
  expectOutput(c.t, await waitForLog(c, n, 'got USR1'), /^got USR1$/m, 'the trap ran', c.diag);
  expectExit(c.t, await podman(c, ['kill', n]), 0, 'podman kill (SIGKILL)', c.diag);
  const wait = await podman(c, ['wait', n]);
  expectOutput(c.t, wait, /^137$/m, 'podman wait: exit code 137 (killed)', c.diag);
  expectExit(c.t, await podman(c, ['rm', n]), 0, 'podman rm', c.diag);
  await noLeaks(c, id);
});

// The memory anchor: crun runs echo under 256k; tsrun's waiting init must fit in 512k.
// runc cannot (it needs about 4 MiB, and fails now and then at 4m), so its control run uses 8m: same command,
// same engine path, a limit runc meets every time.
scenario('podman --runtime <path> run --rm --memory 512k echo it works', async (c) => {
  const limit = c.rt.name === 'tsrun' ? '512k' : '8m';
  const { r, id } = await runRm(c, 0, ['--memory', limit], ['echo', 'it works'], c.rt.path);
  expectExit(c.t, r, 0, `podman --runtime ${c.rt.path} run --rm --memory ${limit} echo it works`, c.diag);
  expectOutput(c.t, r, /^it works$/m, 'the output', c.diag);
  await noLeaks(c, id);
});
