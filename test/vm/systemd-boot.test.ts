// The systemd mode of the QEMU lane (VM_INIT=systemd test/vm/run-in-vm.sh): one boot, checked for
// what the systemd cgroup driver's tests stand on: systemd is PID 1, cgroup2 is the only cgroup
// hierarchy, and the system bus answers for systemd (org.freedesktop.systemd1) and logind.
// Cheap on purpose (one boot, ≈ 20-45 s under TCG), so test/run.sh picks it up.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const here = dirname(fileURLToPath(import.meta.url));
const VM_TIMEOUT_S = Number(process.env.VM_TIMEOUT ?? 240);
t.setTimeout((VM_TIMEOUT_S + 120) * 1000);

// One `key value` line per fact, read back on the host.
const GUEST = [
  'echo "pid1 $(cat /proc/1/comm)"',
  'echo "state $(systemctl is-system-running)"',
  'echo "failed $(systemctl --failed --no-legend --plain --no-pager | awk \'{print $1}\' | tr \'\\n\' \' \')"',
  'awk \'$3 ~ /^cgroup/ {print "mount " $3 " " $2}\' /proc/mounts',
  'echo "controllers $(cat /sys/fs/cgroup/cgroup.controllers)"',
  'echo "systemd1 $(busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Version 2>&1)"',
  'echo "login1 $(busctl get-property org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager KillUserProcesses 2>&1)"',
].join('\n');

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

function boot(): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(join(here, 'run-in-vm.sh'), ['bash', '-c', GUEST], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VM_INIT: 'systemd', VM_TIMEOUT: String(VM_TIMEOUT_S) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', (e) => resolve({ status: null, stdout, stderr: `${stderr}\nspawn run-in-vm.sh: ${e.message}` }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
  });
}

t.test('a guest booted with systemd as PID 1 on a pure cgroup v2 hierarchy', async (t) => {
  const r = await boot();
  const summary = r.stderr.split('\n').find((l) => / booted in /.test(l));
  if (summary) t.comment(summary);
  if (r.status !== 0) {
    t.fail(`run-in-vm.sh exited with ${r.status}`, { stdout: r.stdout.slice(-3000), stderr: r.stderr.slice(-3000) });
    return;
  }
  const facts = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (key) facts.set(key, [...(facts.get(key) ?? []), rest.join(' ')]);
  }
  const one = (k: string): string => facts.get(k)?.[0] ?? '';

  t.equal(one('pid1'), 'systemd', 'PID 1 is systemd');
  const state = one('state');
  t.match(state, /^(running|degraded)$/, 'the boot finished (is-system-running)');
  if (state === 'degraded') t.comment(`degraded; failed units: ${one('failed')}`);
  t.same(facts.get('mount'), ['cgroup2 /sys/fs/cgroup'], 'cgroup2 at /sys/fs/cgroup is the only cgroup mount');
  t.match(one('controllers'), /\bmemory\b/, 'the root cgroup offers the memory controller');
  t.match(one('controllers'), /\bpids\b/, 'the root cgroup offers the pids controller');
  t.match(one('systemd1'), /^s "\d+/, 'systemd answers on the system bus (Manager.Version)');
  t.match(one('login1'), /^b (true|false)$/, 'logind answers on the system bus');
});
