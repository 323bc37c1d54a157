// Docker (Debian docker.io 20.10) running containers through tsrun, each scenario
// once with tsrun and once with runc (Docker's built-in runtime) as the control.
// The test starts its own dockerd (own data root, exec root, socket and
// containerd; --iptables=false --bridge=none) with the documented daemon.json
// (test/engines/config/daemon.json: runtimes.tsrun) and, for one scenario, the
// same registration as a flag (--add-runtime), loads the busybox image
// from a docker-archive, and stops the daemon at the end.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, type CmdOptions, type CmdResult } from './lib/cmd.js';
import { Controls, expectExit, expectOutput, type Diagnostics } from './lib/check.js';
import { startDaemon, type Daemon } from './lib/daemon.js';
import { cgroupDirs, readHostFile, removeEmptyCgroups, removeLaterIfMadeNow, unmountUnder } from './lib/host.js';
import { assertNoLeaks } from './lib/leaks.js';
import { setUpOrExit, snippet, uniqueName, type Runtime } from './lib/setup.js';

const DOCKER = '/usr/bin/docker'; // Debian's client (another docker may come first on PATH)

const { prep, rts, tsrunPath } = await setUpOrExit(['docker']);
const controls = new Controls();

const dir = mkdtempSync(join(tmpdir(), 'tsrun-engines-docker-'));
const sock = join(dir, 'docker.sock');
const execRoot = join(dir, 'exec');
// dockerd gives every runc-v2-shim runtime the same runtime root (the shim passes --root).
const runtimeRoot = join(execRoot, 'runtime-runc', 'moby');
const hadDockerCgroup = cgroupDirs('docker').length > 0;
const removeHostDirs = removeLaterIfMadeNow(['/run/docker', '/run/docker/plugins', '/run/containerd', '/run/containerd/s', '/run/containerd/runc', '/run/containerd/fifo']);

// The documented snippet, plus settings of this test environment only (the trust
// key would otherwise go to /etc/docker/key.json).
const daemonJson = join(dir, 'daemon.json');
const conf = JSON.parse(snippet('daemon.json', tsrunPath)) as Record<string, unknown>;
conf['deprecated-key-path'] = join(dir, 'key.json');
writeFileSync(daemonJson, JSON.stringify(conf, null, 2));

const env = { ...process.env, DOCKER_CONFIG: join(dir, 'cli'), DOCKER_HOST: `unix://${sock}` };
const docker = (args: string[], opts: CmdOptions = {}) => cmd([DOCKER, ...args], { ...opts, env });

let daemon: Daemon | undefined;
try {
  daemon = await startDaemon(
    'dockerd',
    [
      'dockerd',
      '--config-file', daemonJson,
      '--data-root', join(dir, 'data'),
      '--exec-root', execRoot,
      '--host', `unix://${sock}`,
      '--pidfile', join(dir, 'docker.pid'),
      '--iptables=false',
      '--ip-masq=false',
      '--ip-forward=false',
      '--bridge=none',
      '--userland-proxy=false',
      // The command-line form of the same registration, under other names.
      ...rts.flatMap((r) => ['--add-runtime', `${r.name}-flag=${r.path}`]),
      '--debug',
    ],
    join(dir, 'dockerd.log'),
    async () => (await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5000 })).code === 0,
    120_000,
  );
} catch (e) {
  t.fail(`start dockerd: ${(e as Error).message}`);
}

t.teardown(async () => {
  if (daemon) {
    const ps = await docker(['ps', '--all', '--quiet']);
    for (const id of ps.stdout.split('\n').filter(Boolean)) await docker(['rm', '--force', id]);
    await daemon.stop();
  }
  if (!hadDockerCgroup) removeEmptyCgroups('docker');
  // dockerd makes /run/docker/plugins whatever its exec root; shims use /run/containerd/s
  removeHostDirs();
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
});

if (daemon) {
  const load = await docker(['load', '--quiet', '--input', prep.dockerArchive], { timeoutMs: 120_000 });
  if (load.code !== 0) t.fail(`docker load ${prep.dockerArchive}`, { stderr: load.stderr });
  else defineTests(daemon);
}

interface Ctx {
  t: Test;
  rt: Runtime;
  names: string[];
  ids: string[];
  diag: Diagnostics;
}

function defineTests(d: Daemon): void {
  function scenario(title: string, body: (c: Ctx) => Promise<void>): void {
    for (const rt of rts) {
      t.test(`docker: ${title} [${rt.name}]`, async (tt) => {
        const c: Ctx = {
          t: tt,
          rt,
          names: [],
          ids: [],
          diag: () => ({ ...controls.note(title, rt), 'dockerd log (this container)': c.ids.flatMap((id) => d.logLines(id.slice(0, 12), 20)) }),
        };
        tt.teardown(async () => {
          for (const n of c.names) await docker(['rm', '--force', n]);
        });
        await body(c);
        controls.record(title, rt, tt);
      });
    }
  }

  const name = (c: Ctx) => {
    const n = uniqueName('tsrun-e2e');
    c.names.push(n);
    return n;
  };
  const noLeaks = (c: Ctx, id: string) => assertNoLeaks(c.t, id, [runtimeRoot]);
  /** `docker run` options selecting the runtime: the daemon.json entry, or Docker's runc. */
  const runtimeOpts = (c: Ctx) => ['--runtime', c.rt.name, '--network', 'none'];

  async function idFrom(c: Ctx, cidfile: string): Promise<string> {
    const id = existsSync(cidfile) ? readFileSync(cidfile, 'utf8').trim() : '';
    if (id) c.ids.push(id);
    return id;
  }

  async function waitForLog(n: string, needle: string): Promise<CmdResult> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await docker(['logs', n]);
      if (r.stdout.includes(needle) || Date.now() > deadline) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  scenario('run --rm prints the output and returns the exit code', async (c) => {
    const cidfile = join(dir, `${name(c)}.cid`);
    const r = await docker(['run', '--rm', '--name', c.names[0]!, '--cidfile', cidfile, ...runtimeOpts(c), prep.image, 'sh', '-c', 'echo hello from the container; exit 6']);
    const id = await idFrom(c, cidfile);
    expectExit(c.t, r, 6, `docker run --rm --runtime ${c.rt.name} --network none sh -c "...; exit 6"`, c.diag);
    expectOutput(c.t, r, /^hello from the container$/m, 'the output', c.diag);
    c.t.ok(id, 'the container id is known (for the leak check)');
    if (id) await noLeaks(c, id);
  });

  scenario('run --rm through a runtime added with dockerd --add-runtime', async (c) => {
    const cidfile = join(dir, `${name(c)}.cid`);
    const rtName = `${c.rt.name}-flag`;
    const r = await docker(['run', '--rm', '--name', c.names[0]!, '--cidfile', cidfile, '--runtime', rtName, '--network', 'none', prep.image, 'sh', '-c', 'echo via add-runtime; exit 9']);
    const id = await idFrom(c, cidfile);
    expectExit(c.t, r, 9, `docker run --rm --runtime ${rtName} (dockerd --add-runtime ${rtName}=${c.rt.path})`, c.diag);
    expectOutput(c.t, r, /^via add-runtime$/m, 'the output', c.diag);
    c.t.ok(id, 'the container id is known (for the leak check)');
    if (id) await noLeaks(c, id);
  });

  scenario('run -d with --memory and --pids-limit, exec, top, stop, rm', async (c) => {
    const n = name(c);
    const run = await docker([
      'run', '-d', '--name', n, ...runtimeOpts(c), '--memory', '32m', '--pids-limit', '20',
      prep.image, 'sh', '-c', `trap 'echo got TERM; exit 0' TERM; echo started; while true; do sleep 0.1; done`,
    ]);
    if (!expectExit(c.t, run, 0, `docker run -d --runtime ${c.rt.name} --memory 32m --pids-limit 20`, c.diag)) return;
    const id = run.stdout.trim();
    c.ids.push(id);
    expectOutput(c.t, await waitForLog(n, 'started'), /^started$/m, 'docker logs', c.diag);
    const ex = await docker(['exec', n, 'sh', '-c', 'cd /sys/fs/cgroup; echo mem=$(cat memory/memory.limit_in_bytes) pids=$(cat pids/pids.max); exit 2']);
    expectExit(c.t, ex, 2, 'docker exec sh -c "...; exit 2"', c.diag);
    expectOutput(c.t, ex, /^mem=33554432 pids=20$/m, 'the limits seen in the container', c.diag);
    // dockerd asks containerd for the pids, the shim asks the runtime (`ps --format json`).
    const top = await docker(['top', n]);
    expectExit(c.t, top, 0, 'docker top', c.diag);
    expectOutput(c.t, top, /sh -c trap/, 'docker top lists the container process', c.diag);
    const host = (ctrl: string, file: string) => readHostFile(`/sys/fs/cgroup/${ctrl}/docker/${id}/${file}`);
    c.t.equal(host('memory', 'memory.limit_in_bytes'), '33554432', 'memory limit on the host cgroup');
    c.t.equal(host('pids', 'pids.max'), '20', 'pids limit on the host cgroup');
    expectExit(c.t, await docker(['stop', '--time', '30', n]), 0, 'docker stop', c.diag);
    const code = await docker(['inspect', '--format', '{{.State.ExitCode}}', n]);
    expectOutput(c.t, code, /^0$/m, 'the container exited 0 from its SIGTERM trap (stop sent SIGTERM)', c.diag);
    expectOutput(c.t, await docker(['logs', n]), /^got TERM$/m, 'the trap ran', c.diag);
    expectExit(c.t, await docker(['rm', n]), 0, 'docker rm', c.diag);
    await noLeaks(c, id);
  });
}
