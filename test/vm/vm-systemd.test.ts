// The systemd cgroup driver where runc is really used: a QEMU guest with systemd as PID 1 on a pure
// cgroup v2 hierarchy (VM_INIT=systemd, test/vm/README.md). In it: tsrun's own systemd tests
// (guest/systemd.vm.ts: scopes, properties, update, pause, rootless over the user's bus, faults,
// nothing left) and the engines with their systemd defaults, tsrun against runc
// (guest/engines-systemd.vm.ts: podman, containerd's runc shim, Docker).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { vmLane } from './lane.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Boot ≈ 20-25 s, the two files ≈ 6-7 min on 2 cores.
const VM_TIMEOUT_S = Number(process.env.VM_TIMEOUT ?? 1200);
t.setTimeout((VM_TIMEOUT_S + 600) * 1000);

t.test('the systemd cgroup driver and the engines with systemd, in a systemd-booted QEMU guest', async (t) => {
  // The engines' images (busybox archives) are built on the host, where the packages are.
  const images = spawnSync('bash', [join(repo, 'test/engines/setup.sh'), 'podman', 'containerd', 'docker'], { encoding: 'utf8', timeout: 600_000 });
  if (!t.equal(images.status, 0, 'test/engines/setup.sh built the images', { stderr: images.stderr.slice(-3000) })) return;
  await vmLane(t, {
    vmTimeoutS: VM_TIMEOUT_S,
    env: { VM_INIT: 'systemd', PER_FILE_TIMEOUT: '900' },
    files: ['test/vm/guest/systemd.vm.ts', 'test/vm/guest/engines-systemd.vm.ts'],
  });
});

