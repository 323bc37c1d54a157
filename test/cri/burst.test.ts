// The burst: 20 pods started at once through the CRI, each with one container, first
// with handler `runc`, then with `tsrun`, on the same lane. Measures the time from the
// first RunPodSandbox until every container is CONTAINER_RUNNING, the peak of the host's
// memory in use above what it was before (MemTotal - MemAvailable; other work on the host
// adds noise), and the peak of the summed PSS of the runtime's own processes (the
// runtime's create/start/state/init processes, not the shims or the containers; PSS
// shares the pages several processes map among them).
// Prints one "# RESULT cri-burst ..." line per handler and a comparison line.
import t from 'tap';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { laneForTestFile, laneLeftovers } from './lib/lane.js';
import { containerConfig, podConfig, waitContainer } from './lib/pods.js';

const PODS = Number(process.env.CRI_BURST_PODS ?? 20);

const lane = await laneForTestFile(t);

function memInUse(): number {
  const m = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(m)?.[1] ?? 0);
  return (kb('MemTotal') - kb('MemAvailable')) * 1024;
}

/**
 * Summed PSS (proportional set size) of the processes running the runtime's binary or its support files
 * (runc runs its init from a memfd copy; tsrun's init is build/lib/tsrun/tsrun-init).
 */
function runtimePss(path: string, name: string): number {
  const support = join(dirname(path), 'lib', name) + '/';
  let sum = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${e}/exe`);
    } catch {
      continue;
    }
    if (exe !== path && !exe.startsWith(`/memfd:${name}`) && !exe.startsWith(support)) continue;
    try {
      const pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      sum += pss * 1024;
    } catch {
      // gone
    }
  }
  return sum;
}

interface Result {
  handler: string;
  ms: number;
  memPeak: number;
  pssPeak: number;
  removeMs: number;
}
const results: Result[] = [];
const MiB = (b: number) => (b / 1048576).toFixed(1);

for (const rt of lane.rts) {
  t.test(`CRI burst: ${PODS} pods at once [${rt.name}]`, async (tt) => {
    const handler = rt.name;
    const ids: string[] = [];
    tt.teardown(async () => {
      for (const id of ids) {
        await lane.cri.call('StopPodSandbox', { pod_sandbox_id: id }).catch(() => {});
        await lane.cri.call('RemovePodSandbox', { pod_sandbox_id: id }).catch(() => {});
      }
    });
    await new Promise((r) => setTimeout(r, 1000));
    const base = memInUse();
    let memPeak = 0;
    let pssPeak = 0;
    const sampler = setInterval(() => {
      memPeak = Math.max(memPeak, memInUse() - base);
      pssPeak = Math.max(pssPeak, runtimePss(rt.path, rt.name));
    }, 50);
    const t0 = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: PODS }, async (_, i) => {
        const { config } = podConfig(lane, handler, `burst${i}`);
        const pod = (await lane.cri.call('RunPodSandbox', { config, runtime_handler: handler }, 180_000)).pod_sandbox_id as string;
        ids.push(pod);
        const cfg = containerConfig(lane, 'app', { command: ['sleep', '3600'] });
        const c = (await lane.cri.call('CreateContainer', { pod_sandbox_id: pod, config: cfg, sandbox_config: config }, 180_000)).container_id as string;
        await lane.cri.call('StartContainer', { container_id: c }, 180_000);
        const st = await waitContainer(lane, c, 'CONTAINER_RUNNING', 60_000);
        if (st.state !== 'CONTAINER_RUNNING') throw new Error(`pod ${i}: container ${st.state}`);
      }),
    );
    const ms = Date.now() - t0;
    clearInterval(sampler);
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    tt.equal(failed.length, 0, `all ${PODS} pods' containers running`, { errors: failed.slice(0, 3).map((f) => String((f.reason as Error).message)) });
    const r0 = Date.now();
    await Promise.all(
      ids.splice(0).map(async (id) => {
        await lane.cri.call('StopPodSandbox', { pod_sandbox_id: id }, 120_000);
        await lane.cri.call('RemovePodSandbox', { pod_sandbox_id: id }, 120_000);
      }),
    );
    const removeMs = Date.now() - r0;
    const left = (await lane.cri.call('ListPodSandbox', {})).items as unknown[];
    tt.equal(left.length, 0, 'all pods removed');
    if (failed.length === 0) {
      results.push({ handler, ms, memPeak, pssPeak, removeMs });
      console.log(
        `# RESULT cri-burst handler=${handler} pods=${PODS} all-running=${ms}ms stop+remove=${removeMs}ms host-mem-peak=+${MiB(memPeak)}MiB runtime-pss-peak=${MiB(pssPeak)}MiB`,
      );
    }
  });
}

t.test('CRI burst: tsrun against runc', async (tt) => {
  const r = results.find((x) => x.handler === 'runc');
  const s = results.find((x) => x.handler === 'tsrun');
  if (!r || !s) {
    tt.fail('a burst did not complete: no comparison');
    return;
  }
  console.log(
    `# RESULT cri-burst ${PODS} pods, 2 cores: all running tsrun ${s.ms} ms / runc ${r.ms} ms (x${(s.ms / r.ms).toFixed(2)}); ` +
      `host memory peak +${MiB(s.memPeak)} / +${MiB(r.memPeak)} MiB; runtime processes' PSS peak ${MiB(s.pssPeak)} / ${MiB(r.pssPeak)} MiB; ` +
      `stop+remove ${s.removeMs} / ${r.removeMs} ms`,
  );
  tt.pass('compared');
});

t.test('CRI lane: stopped, nothing left behind', async (tt) => {
  const notes = await lane.stop();
  tt.same(notes, [], 'no pod, task or netns was left for the lane to clean up');
  tt.same(await laneLeftovers(lane), [], 'no temp dir, bridge, cgroup, mount or process of the lane');
});
