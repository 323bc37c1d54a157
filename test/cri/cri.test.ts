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
import { serveOciArchive } from './lib/registry.js';

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
  // kubelet gives each container the pod's namespace options.
  const security = { namespace_options: pod.config.linux.security_context.namespace_options, ...(o.security ?? {}) };
  const r = await lane.cri.call('CreateContainer', { pod_sandbox_id: pod.id, config: containerConfig(lane, name, { ...o, security }), sandbox_config: pod.config });
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

// --- images and the container lifecycle --------------------------------------
const registry = await serveOciArchive(lane.images.busyboxArchive, 'tsrun/busybox', 'v1');
t.teardown(() => registry.close());
const pulledRef = `${registry.host}/tsrun/busybox:v1`;

t.test('CRI: ImageStatus of the imported images; PullImage from a registry on 127.0.0.1', async (tt) => {
  for (const ref of [lane.images.busybox, lane.images.pause]) {
    const st = await lane.cri.imageCall('ImageStatus', { image: { image: ref } });
    tt.ok((st.image?.repo_tags ?? []).includes(ref), `ImageStatus finds the imported ${ref}`, { got: st });
  }
  const missing = await lane.cri.imageCall('ImageStatus', { image: { image: pulledRef } });
  tt.equal(missing.image, null, `ImageStatus of ${pulledRef} before the pull: no image`);
  const pull = await lane.cri.imageCall('PullImage', { image: { image: pulledRef } }, 60_000);
  tt.match(pull.image_ref, /^sha256:[0-9a-f]{64}$/, 'PullImage returns the image id');
  // The layers have the digests of the imported image's: containerd has them, it fetches the manifest.
  tt.ok(registry.requests.some((r) => r.startsWith('GET /v2/tsrun/busybox/manifests/')), 'the manifest came from the registry', { requests: registry.requests });
  const st = await lane.cri.imageCall('ImageStatus', { image: { image: pulledRef } });
  tt.equal(st.image?.id, pull.image_ref, 'ImageStatus: the pulled image');
  const list = (await lane.cri.imageCall('ListImages', {})).images as Msg[];
  tt.ok(list.some((i) => (i.repo_tags as string[]).includes(pulledRef)), 'ListImages lists it');
});

scenario('CreateContainer, StartContainer, ContainerStatus, StopContainer (grace), RemoveContainer, restart', async (c) => {
  const pod = await runPod(c, 'lifecycle');
  const script = `echo started; trap 'echo got TERM; exit 3' TERM; ${LOOP}`;
  const id = await createContainer(pod, 'app', { script });
  let st = (await lane.cri.call('ContainerStatus', { container_id: id })).status;
  c.t.equal(st.state, 'CONTAINER_CREATED', 'after CreateContainer: CONTAINER_CREATED');
  c.t.ok(ns(st.created_at) > 0n, 'created_at is set');
  await lane.cri.call('StartContainer', { container_id: id });
  st = await waitContainer(lane, id, 'CONTAINER_RUNNING', 5000);
  c.t.equal(st.state, 'CONTAINER_RUNNING', 'after StartContainer: CONTAINER_RUNNING');
  c.t.ok(ns(st.started_at) >= ns(st.created_at), 'started_at >= created_at');
  c.t.equal(st.image?.image, lane.images.busybox, 'the image');
  const ex = await sh(id, 'cat /proc/1/cmdline | tr "\\0" " "');
  c.t.match(ex.stdout, /^sh -c echo started/, 'pid 1 in the container is the command (its own PID namespace)');
  const t0 = Date.now();
  await lane.cri.call('StopContainer', { container_id: id, timeout: 10 }, 30_000);
  const took = Date.now() - t0;
  st = (await lane.cri.call('ContainerStatus', { container_id: id })).status;
  c.t.equal(st.state, 'CONTAINER_EXITED', 'after StopContainer: CONTAINER_EXITED');
  c.t.equal(st.exit_code, 3, 'SIGTERM ran the trap: exit code 3');
  c.t.equal(st.reason, 'Error', 'reason Error (non-zero exit)');
  c.t.ok(took < 9000, `stopped by SIGTERM within the grace period (${took} ms)`);
  c.t.ok(ns(st.finished_at) >= ns(st.started_at), 'finished_at >= started_at');
  const log = readFileSync(join(pod.logDir, 'app', '0.log'), 'utf8');
  c.t.match(log, /^\d{4}-\d\d-\d\dT\S+ stdout F started$/m, 'the log file is in CRI format: "<time> stdout F started"', { log });
  c.t.match(log, /^\S+ stdout F got TERM$/m, 'the trap\'s output is logged', { log });

  // A process that ignores SIGTERM: StopContainer kills it when the grace period ends.
  const stubborn = await startContainer(pod, 'stubborn', { script: `trap '' TERM; echo up; ${LOOP}` });
  await waitContainer(lane, stubborn, 'CONTAINER_RUNNING', 5000);
  const t1 = Date.now();
  await lane.cri.call('StopContainer', { container_id: stubborn, timeout: 2 }, 30_000);
  const took1 = Date.now() - t1;
  st = (await lane.cri.call('ContainerStatus', { container_id: stubborn })).status;
  c.t.equal(st.exit_code, 137, 'SIGTERM ignored: SIGKILL after the grace period, exit code 137');
  c.t.ok(took1 >= 1900 && took1 < 15_000, `StopContainer waited the grace period (2 s) first (${took1} ms)`);

  await lane.cri.call('RemoveContainer', { container_id: id });
  const gone = await criError(lane.cri.call('ContainerStatus', { container_id: id }));
  c.t.match(gone?.message ?? 'no error', /NOT_FOUND/, 'after RemoveContainer: ContainerStatus says NotFound');
  await assertNoLeaks(c.t, id, [RUNTIME_ROOT]);

  // kubelet's restart: the same container name, the next attempt, in the same sandbox.
  const again = await startContainer(pod, 'app', { script: 'echo second life; exit 0', attempt: 1 });
  st = await waitContainer(lane, again, 'CONTAINER_EXITED', 10_000);
  c.t.equal(st.state, 'CONTAINER_EXITED', 'the restarted container ran to completion');
  c.t.equal(st.exit_code, 0, 'exit code 0');
  c.t.equal(st.reason, 'Completed', 'reason Completed');
  c.t.equal(st.metadata?.attempt, 1, 'attempt 1');
  c.t.match(readFileSync(join(pod.logDir, 'app', '1.log'), 'utf8'), /^\S+ stdout F second life$/m, 'its log');
  const list = (await lane.cri.call('ListContainers', { filter: { pod_sandbox_id: pod.id } })).containers as Msg[];
  c.t.equal(list.length, 2, 'ListContainers: the stubborn one and the restarted one');
  await lane.cri.call('StopPodSandbox', { pod_sandbox_id: pod.id });
  await lane.cri.call('RemovePodSandbox', { pod_sandbox_id: pod.id });
  for (const x of [again, stubborn, pod.id]) await assertNoLeaks(c.t, x, [RUNTIME_ROOT]);
});

scenario('ExecSync: output, stderr and exit code; a container that exits by itself', async (c) => {
  const pod = await runPod(c, 'exec');
  const id = await startContainer(pod, 'app', { script: LOOP, image: pulledRef });
  await waitContainer(lane, id, 'CONTAINER_RUNNING', 5000);
  const r = await sh(id, 'echo out; echo err >&2; exit 5');
  c.t.equal(r.stdout, 'out\n', 'stdout');
  c.t.equal(r.stderr, 'err\n', 'stderr');
  c.t.equal(r.exit_code, 5, 'exit code 5');
  const env = await execSync(id, ['env']);
  c.t.match(env.stdout, /^PATH=/m, 'exec gets the container\'s environment');
  const miss = await criError(execSync(id, ['/no/such/exec']));
  const missOut = miss ? miss.message : 'no error';
  c.t.match(missOut, /no such file|not found/i, 'exec of a missing binary: an error naming the cause', { got: missOut });
  const short = await startContainer(pod, 'short', { script: 'echo bye; exit 9' });
  const st = await waitContainer(lane, short, 'CONTAINER_EXITED', 10_000);
  c.t.equal(st.exit_code, 9, 'a container exiting on its own: exit code 9');
  c.t.equal(st.reason, 'Error', 'reason Error');
});
