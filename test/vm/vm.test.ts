// The cgroup v2 code on a real pure-v2 kernel: this host's cgroup2 hierarchy has only hugetlb, so
// test/vm/suite.sh boots Debian's kernel under QEMU (TCG), runs the v2 suites inside with tap
// (test/vm/guest/*.vm.ts and the v2 tests of test/cgroups) and hands their TAP back (lane.ts).
import t from 'tap';
import { vmLane } from './lane.js';

// Boot ≈ 5 s, the suites ≈ 3-5 min on 2 cores. The VM's hard limit (run-in-vm.sh) is below this
// file's, which also leaves room for the first run's apt-get install and initramfs build.
const VM_TIMEOUT_S = Number(process.env.VM_TIMEOUT ?? 480);
t.setTimeout((VM_TIMEOUT_S + 300) * 1000);

t.test('cgroup v2 suites in a QEMU VM', async (t) => {
  await vmLane(t, { vmTimeoutS: VM_TIMEOUT_S });
});
