// Kubernetes on a systemd host: the CRI checks of test/cri/cri.test.ts, run inside the systemd guest
// (systemd PID 1, pure cgroup v2), where the lane gives both handlers SystemdCgroup = true and puts
// pods in slices, as kubelet's systemd cgroup driver does (test/cri/lib/lane.ts). The file runs
// there with the repository's test runner; its last line and its failures come back here.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runScript } from './lane.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VM_TIMEOUT_S = Number(process.env.VM_TIMEOUT ?? 1800);
t.setTimeout((VM_TIMEOUT_S + 600) * 1000);

t.test('the CRI checks with SystemdCgroup = true, in the systemd guest', async (t) => {
  const setup = spawnSync('bash', [join(repo, 'test/cri/setup.sh')], { encoding: 'utf8', timeout: 900_000 });
  if (!t.equal(setup.status, 0, 'test/cri/setup.sh (containerd, CNI, the images) on the host', { stderr: setup.stderr.slice(-3000) })) return;
  // The guest gets no environment from here: the command sets what it needs. The images were
  // built above (podman's storage cannot sit on the guest's root overlay). TEST_TIMEOUT: the file
  // takes ~6 min under TCG (1.5 min on the host).
  const cmd = ['env', 'TSRUN_IMAGES_PREBUILT=1', 'CRI_CGROUP_DRIVER=systemd', 'TEST_TIMEOUT=1500', 'bash', 'test/run.sh', 'test/cri/cri.test.ts'];
  const r = await runScript(t, 'run-in-vm.sh', cmd, { VM_INIT: 'systemd', VM_TIMEOUT: String(VM_TIMEOUT_S) }, repo);
  const booted = r.stderr.split('\n').find((l) => / booted in /.test(l));
  if (booted) t.comment(booted);
  const summary = /(\d+) passed, (\d+) failed/.exec(r.stdout.trim().split('\n').at(-1) ?? '');
  t.ok(summary, 'the guest ran the CRI file and reported', { stdout: r.stdout.slice(-4000), stderr: r.stderr.slice(-3000) });
  if (!summary) return;
  t.comment(`in the guest: ${summary[0]}`);
  t.ok(Number(summary[1]) > 0, 'checks passed in the guest');
  t.equal(Number(summary[2]), 0, 'no CRI check failed in the guest', { failures: r.stdout.split('\n').filter((l) => /not ok/.test(l)).slice(0, 40).join('\n'), output: r.stdout.slice(-12000) });
  t.equal(r.status, 0, 'the guest run exited 0');
});
