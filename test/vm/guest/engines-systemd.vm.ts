// The engines with their default systemd cgroup settings, in the systemd guest (systemd PID 1,
// pure cgroup v2): podman (cgroup_manager = "systemd", its default), containerd's runc shim with
// the systemd cgroup manager (ctr --runc-systemd-cgroup, the option SystemdCgroup = true sets) and
// Docker (native.cgroupdriver=systemd). Each scenario runs once with tsrun and once with runc as
// the control: a failure of tsrun alone points at tsrun. Images: the busybox archives that
// test/engines/setup.sh built on the host (/var/tmp/tsrun-engines/image).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runtimeUnderTest, waitUntil } from '../../helpers/index.js';
import { show, unitsNamed } from './systemctl.js';

const IMAGES = process.env.TSRUN_ENGINES_DIR ?? '/var/tmp/tsrun-engines';
const IMAGE_NAME = existsSync(join(IMAGES, 'image', 'NAME')) ? readFileSync(join(IMAGES, 'image', 'NAME'), 'utf8').trim() : '';
const RUNTIMES = [
  { name: 'tsrun', path: runtimeUnderTest() },
  { name: 'runc', path: '/usr/sbin/runc' },
];

interface Out {
  status: number | null;
  stdout: string;
  stderr: string;
  what: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Out {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? ` (${r.error.message})` : ''}`, what: [cmd, ...args].join(' ') };
}

function ok(t: Test, r: Out, what = r.what): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { cmd: r.what, stdout: r.stdout.slice(-1500), stderr: r.stderr.slice(-1500) });
}

/** A daemon of the test's own, stopped at teardown. */
function daemon(t: Test, cmd: string, args: string[], logFile: string): ChildProcess {
  const log = { out: '' };
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b) => (log.out += b));
  child.stderr!.on('data', (b) => (log.out += b));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await waitUntil(() => child.exitCode !== null || child.signalCode !== null, { timeoutMs: 20_000 });
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    writeFileSync(logFile, log.out);
  });
  return child;
}

const work = mkdtempSync('/tmp/tsrun-engines-sd-');

t.test('the images are there', async (t) => {
  t.ok(IMAGE_NAME, `${IMAGES}/image/NAME names the busybox image (test/engines/setup.sh on the host)`);
});

t.test('podman with its default cgroup_manager (systemd)', { skip: !IMAGE_NAME && 'no image' }, async (t) => {
  const conf = join(work, 'containers.conf');
  writeFileSync(conf, `[containers]\ndefault_ulimits = []\nnetns = "none"\n\n[engine]\n[engine.runtimes]\ntsrun = ["${RUNTIMES[0]!.path}"]\n`);
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const podman = (...args: string[]) => run('podman', args, env);
  const info = podman('info', '--format', '{{.Host.CgroupManager}} {{.Host.CgroupsVersion}}');
  ok(t, info, 'podman info');
  t.equal(info.stdout.trim(), 'systemd v2', 'podman uses the systemd cgroup manager on cgroup v2');
  ok(t, podman('load', '-i', join(IMAGES, 'image', 'docker.tar')), 'podman load');
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const runtime = rt.name === 'tsrun' ? 'tsrun' : rt.path;
      const r = podman('--runtime', runtime, 'run', '--rm', IMAGE_NAME, 'sh', '-c', 'cat /proc/self/cgroup');
      ok(t, r, 'podman run --rm');
      t.match(r.stdout.trim(), /^0::\/$/, 'inside: its own cgroup namespace');
      const name = `sd-${rt.name}-${process.pid}`;
      ok(t, podman('--runtime', runtime, 'run', '-d', '--name', name, '--memory', '64m', IMAGE_NAME, 'sleep', '1000'), 'podman run -d');
      const id = podman('inspect', '--format', '{{.Id}}', name).stdout.trim();
      const unit = `libpod-${id}.scope`;
      t.same(unitsNamed(id).filter((u) => u === unit), [unit], `systemd has ${unit}`);
      t.equal(show(unit, 'MemoryMax').MemoryMax, String(64 << 20), 'MemoryMax from --memory');
      const x = podman('exec', name, 'echo', 'hi');
      ok(t, x, 'podman exec');
      t.equal(x.stdout.trim(), 'hi');
      const st = podman('stats', '--no-stream', '--format', 'json', name);
      ok(t, st, 'podman stats');
      t.match(st.stdout, /mem_usage|MemUsage/i, 'stats has memory usage');
      if (ok(t, podman('update', '--memory', '96m', name), 'podman update')) {
        t.equal(show(unit, 'MemoryMax').MemoryMax, String(96 << 20), 'MemoryMax after update');
      }
      ok(t, podman('pause', name), 'podman pause');
      t.equal(podman('inspect', '--format', '{{.State.Status}}', name).stdout.trim(), 'paused');
      ok(t, podman('unpause', name), 'podman unpause');
      ok(t, podman('stop', '-t', '2', name), 'podman stop');
      ok(t, podman('rm', name), 'podman rm');
      t.same(unitsNamed(id), [], 'no unit of the container is left');
    });
  }
});

t.test('containerd: the runc shim with the systemd cgroup manager (SystemdCgroup = true)', { skip: !IMAGE_NAME && 'no image' }, async (t) => {
  const root = join(work, 'containerd');
  mkdirSync(root, { recursive: true });
  const sock = join(root, 'containerd.sock');
  const cfg = join(root, 'config.toml');
  writeFileSync(cfg, `version = 2\nroot = "/var/lib/containerd/test"\nstate = "${root}/state"\n[grpc]\n  address = "${sock}"\n[plugins."io.containerd.grpc.v1.cri"]\n  disable_cgroup = false\n`);
  const d = daemon(t, 'containerd', ['--config', cfg], join(root, 'containerd.log'));
  t.ok(await waitUntil(() => run('ctr', ['--address', sock, 'version']).status === 0, { timeoutMs: 60_000 }), 'containerd answers', { pid: d.pid });
  const ctr = (...args: string[]) => run('ctr', ['--address', sock, '--namespace', 'tsrun-test', ...args]);
  ok(t, ctr('images', 'import', join(IMAGES, 'image', 'oci.tar')), 'ctr images import');
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const id = `sd-${rt.name}-${process.pid}`;
      const r = ctr('run', '--rm', '--runc-binary', rt.path, '--runc-systemd-cgroup', '--cgroup', `system.slice:ctr:${id}`, IMAGE_NAME, id, 'sh', '-c', 'cat /proc/self/cgroup; echo done');
      ok(t, r, 'ctr run --rm');
      t.match(r.stdout, /done/, 'the process ran');
      t.same(unitsNamed(`ctr-${id}`), [], 'no unit left');
      const bg = `${id}-bg`;
      ok(t, ctr('run', '-d', '--runc-binary', rt.path, '--runc-systemd-cgroup', '--cgroup', `system.slice:ctr:${bg}`, IMAGE_NAME, bg, 'sleep', '1000'), 'ctr run -d');
      t.equal(show(`ctr-${bg}.scope`, 'ActiveState').ActiveState, 'active', `ctr-${bg}.scope is active`);
      ok(t, ctr('tasks', 'kill', '-s', 'SIGKILL', bg), 'ctr tasks kill');
      await waitUntil(() => !ctr('tasks', 'ls').stdout.includes(`${bg} `) || /STOPPED/.test(ctr('tasks', 'ls').stdout), { timeoutMs: 20_000 });
      ok(t, ctr('tasks', 'delete', bg), 'ctr tasks delete');
      ok(t, ctr('containers', 'delete', bg), 'ctr containers delete');
      t.same(unitsNamed(`ctr-${bg}`), [], 'no unit left');
    });
  }
});

t.test('Docker with native.cgroupdriver=systemd', { skip: !IMAGE_NAME && 'no image' }, async (t) => {
  const root = join(work, 'docker');
  mkdirSync(root, { recursive: true });
  const sock = join(root, 'docker.sock');
  const cfg = join(root, 'daemon.json');
  writeFileSync(cfg, JSON.stringify({
    'exec-opts': ['native.cgroupdriver=systemd'],
    'data-root': '/var/lib/docker/test',
    'exec-root': join(root, 'exec'),
    pidfile: join(root, 'docker.pid'),
    hosts: [`unix://${sock}`],
    iptables: false,
    ip6tables: false,
    bridge: 'none',
    runtimes: { tsrun: { path: RUNTIMES[0]!.path } },
  }));
  daemon(t, 'dockerd', ['--config-file', cfg, '--containerd-namespace', 'tsrun-docker', '--containerd-plugins-namespace', 'tsrun-docker-plugins'], join(root, 'dockerd.log'));
  const docker = (...args: string[]) => run('docker', ['-H', `unix://${sock}`, ...args]);
  t.ok(await waitUntil(() => docker('info').status === 0, { timeoutMs: 90_000 }), 'dockerd answers');
  t.equal(docker('info', '--format', '{{.CgroupDriver}} {{.CgroupVersion}}').stdout.trim(), 'systemd 2', 'Docker uses the systemd driver on cgroup v2');
  ok(t, docker('load', '-i', join(IMAGES, 'image', 'docker.tar')), 'docker load');
  for (const rt of RUNTIMES) {
    await t.test(rt.name, async (t) => {
      const runtime = rt.name === 'tsrun' ? 'tsrun' : 'runc';
      const r = docker('run', '--rm', '--runtime', runtime, '--network', 'none', IMAGE_NAME, 'echo', 'hello');
      ok(t, r, 'docker run --rm');
      t.equal(r.stdout.trim(), 'hello');
      const name = `sd-${rt.name}-${process.pid}`;
      ok(t, docker('run', '-d', '--name', name, '--runtime', runtime, '--network', 'none', '--memory', '64m', IMAGE_NAME, 'sleep', '1000'), 'docker run -d');
      const id = docker('inspect', '--format', '{{.Id}}', name).stdout.trim();
      const unit = `docker-${id}.scope`;
      t.equal(show(unit, 'ActiveState').ActiveState, 'active', `${unit} is active`);
      t.equal(show(unit, 'MemoryMax').MemoryMax, String(64 << 20), 'MemoryMax from --memory');
      const x = docker('exec', name, 'echo', 'in');
      ok(t, x, 'docker exec');
      ok(t, docker('rm', '-f', name), 'docker rm -f');
      t.same(unitsNamed(id), [], 'no unit left');
    });
  }
});
