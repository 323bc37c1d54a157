// tsrun as a containerd CRI runtime handler, driven the way kubelet drives it: a CRI v1
// client (lib/cri.ts) against a containerd of the lane's own (lib/lane.ts), each scenario
// once with handler `runc` (the control, first) and once with handler `tsrun`.
// A failure of tsrun's run says whether runc passed the same scenario.
import t, { type Test } from 'tap';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Controls } from '../engines/lib/check.js';
import { assertNoLeaks } from '../engines/lib/leaks.js';
import type { Runtime } from '../engines/lib/setup.js';
import { prepareImages, startLane, RUNTIME_ROOT, type Lane } from './lib/lane.js';
import { containerConfig, criError, ns, podConfig, waitContainer, type ContainerOptions, type Pod, type PodOptions } from './lib/pods.js';
import type { Msg } from './lib/cri.js';

if (process.getuid?.() !== 0) {
  t.plan(0, 'the CRI lane runs containerd and containers: it needs root');
  process.exit(0);
}

let lane: Lane;
try {
  lane = await startLane(await prepareImages());
} catch (e) {
  t.fail(`CRI lane: ${(e as Error).message}`);
  process.exit(1);
}
t.teardown(async () => {
  const notes = await lane.stop();
  if (notes.length) console.error(`# lane clean-up:\n${notes.map((n) => `#   ${n}`).join('\n')}`);
});

const controls = new Controls();

interface Ctx {
  t: Test;
  rt: Runtime;
  handler: string;
  pods: Pod[];
  diag: () => Record<string, unknown>;
}

function scenario(title: string, body: (c: Ctx) => Promise<void>): void {
  for (const rt of lane.rts) {
    t.test(`CRI: ${title} [${rt.name}]`, async (tt) => {
      const c: Ctx = {
        t: tt,
        rt,
        handler: rt.name,
        pods: [],
        diag: () => ({ ...controls.note(title, rt), 'containerd log (this scenario)': c.pods.flatMap((p) => lane.daemon.logLines(p.id.slice(0, 12), 15)) }),
      };
      tt.teardown(async () => {
        for (const p of c.pods) {
          await lane.cri.call('StopPodSandbox', { pod_sandbox_id: p.id }).catch(() => {});
          await lane.cri.call('RemovePodSandbox', { pod_sandbox_id: p.id }).catch(() => {});
        }
      });
      try {
        await body(c);
      } catch (e) {
        tt.fail(`${(e as Error).message}`, c.diag());
      }
      controls.record(title, rt, tt);
    });
  }
}

async function runPod(c: Ctx, name: string, o: PodOptions = {}): Promise<Pod> {
  const { config, logDir } = podConfig(lane, c.handler, name, o);
  const r = await lane.cri.call('RunPodSandbox', { config, runtime_handler: c.handler }, 120_000);
  const pod = { id: r.pod_sandbox_id as string, config, handler: c.handler, logDir };
  c.pods.push(pod);
  return pod;
}

async function createContainer(pod: Pod, name: string, o: ContainerOptions = {}): Promise<string> {
  const r = await lane.cri.call('CreateContainer', { pod_sandbox_id: pod.id, config: containerConfig(lane, name, o), sandbox_config: pod.config });
  return r.container_id as string;
}

/** CreateContainer + StartContainer; the container id. */
async function startContainer(pod: Pod, name: string, o: ContainerOptions = {}): Promise<string> {
  const id = await createContainer(pod, name, o);
  await lane.cri.call('StartContainer', { container_id: id });
  return id;
}

async function execSync(id: string, cmd: string[], timeout = 20): Promise<{ stdout: string; stderr: string; exit_code: number }> {
  const r = await lane.cri.call('ExecSync', { container_id: id, cmd, timeout }, (timeout + 10) * 1000);
  return { stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString(), exit_code: r.exit_code };
}

const sh = (id: string, script: string) => execSync(id, ['sh', '-c', script]);
const LOOP = 'while true; do sleep 0.1; done';

// --- pod sandbox --------------------------------------------------------------
scenario('RunPodSandbox, PodSandboxStatus, StopPodSandbox, RemovePodSandbox', async (c) => {
  const pod = await runPod(c, 'sandbox');
  c.t.match(pod.id, /^[0-9a-f]{64}$/, 'RunPodSandbox returns a sandbox id');
  const st = (await lane.cri.call('PodSandboxStatus', { pod_sandbox_id: pod.id, verbose: true })).status;
  c.t.equal(st.state, 'SANDBOX_READY', 'PodSandboxStatus: SANDBOX_READY');
  c.t.equal(st.runtime_handler, c.handler, `PodSandboxStatus: runtime_handler ${c.handler}`);
  c.t.match(st.network?.ip ?? '', new RegExp(`^${lane.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`), `the pod has an IP on the lane's bridge (${lane.subnetPrefix}.0/24)`);
  c.t.equal(st.linux?.namespaces?.options?.network, 'POD', 'its own network namespace');
  const list = (await lane.cri.call('ListPodSandbox', { filter: { id: pod.id } })).items as Msg[];
  c.t.equal(list.length, 1, 'ListPodSandbox finds it');
  await lane.cri.call('StopPodSandbox', { pod_sandbox_id: pod.id });
  const st2 = (await lane.cri.call('PodSandboxStatus', { pod_sandbox_id: pod.id })).status;
  c.t.equal(st2.state, 'SANDBOX_NOTREADY', 'after StopPodSandbox: SANDBOX_NOTREADY');
  await lane.cri.call('RemovePodSandbox', { pod_sandbox_id: pod.id });
  const gone = await criError(lane.cri.call('PodSandboxStatus', { pod_sandbox_id: pod.id }));
  c.t.match(gone?.message ?? 'no error', /NOT_FOUND/, 'after RemovePodSandbox: PodSandboxStatus says NotFound');
  await assertNoLeaks(c.t, pod.id, [RUNTIME_ROOT]);
});
