// The CRI lane: a containerd of its own (Debian's 1.6, own root, state, sockets and config
// under a temp dir) with its CRI plugin, runtime handlers `runc` (the control), `tsrun`
// (build/tsrun) and `missing` (a BinaryName that does not exist), CNI from Debian's
// containernetworking-plugins (a bridge of its own, host-local IPAM state in the temp dir),
// and the pause and busybox images imported into the `k8s.io` namespace. stop() removes
// everything it made: pods, containers, the bridge, netns, mounts, cgroups, the temp dir.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, type CmdResult } from '../../engines/lib/cmd.js';
import { startDaemon, type Daemon } from '../../engines/lib/daemon.js';
import { cgroupDirs, removeLaterIfMadeNow, unmountUnder } from '../../engines/lib/host.js';
import { prepare as prepareEngines, runtimes, snippet, enginesDir, imagesPrebuilt, type Runtime } from '../../engines/lib/setup.js';
import { CriClient } from './cri.js';

export const NAMESPACE = 'k8s.io';
/** Where the runc v2 shim tells the runtime to keep its state (--root) for the k8s.io namespace. */
export const RUNTIME_ROOT = `/run/containerd/runc/${NAMESPACE}`;
export const CNI_BIN_DIR = '/usr/lib/cni';

export interface Images {
  busybox: string;
  pause: string;
  busyboxArchive: string;
  pauseArchive: string;
}

/** test/cri/setup.sh: containerd, podman, CNI plugins, the busybox and pause images. */
export async function prepareImages(): Promise<Images> {
  let work = imagesPrebuilt();
  if (work === undefined) {
    const r = await cmd(['bash', join(enginesDir, '..', 'cri', 'setup.sh')], { timeoutMs: 15 * 60_000 });
    if (r.code !== 0) throw new Error(`test/cri/setup.sh failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    work = r.stdout.trim().split('\n').pop() ?? '';
  }
  const img = (f: string) => readFileSync(join(work, 'image', f), 'utf8').trim();
  // prepareEngines is what setup.sh ran first; asking again is a no-op that gives its names.
  const eng = await prepareEngines(['containerd']);
  return { busybox: eng.image, busyboxArchive: eng.ociArchive, pause: img('PAUSE_NAME'), pauseArchive: join(work, 'image', 'pause-oci.tar') };
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/** What of a stopped lane is still on the host (empty when it cleaned up). */
export async function laneLeftovers(lane: Pick<Lane, 'dir' | 'bridge' | 'cgroupRoot' | 'madeDirs'>): Promise<string[]> {
  const left: string[] = lane.madeDirs.filter((d) => existsSync(d)).map((d) => `host dir ${d} (made by the lane)`);
  if (existsSync(lane.dir)) left.push(`temp dir ${lane.dir}`);
  if ((await cmd(['ip', 'link', 'show', lane.bridge])).code === 0) left.push(`bridge ${lane.bridge}`);
  left.push(...cgroupDirs(lane.cgroupRoot).map((d) => `cgroup ${d}`));
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line.includes(lane.dir)) left.push(`mount ${line.split(' ')[4]}`);
  }
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let c = '';
    try {
      c = readFileSync(`/proc/${e}/cmdline`, 'latin1').split('\0').join(' ');
    } catch {
      continue;
    }
    if (c.includes(lane.dir) && Number(e) !== process.pid) left.push(`process ${e}: ${c.slice(0, 120)}`);
  }
  return left;
}

export interface Lane {
  dir: string;
  sock: string;
  cri: CriClient;
  daemon: Daemon;
  images: Images;
  rts: Runtime[];
  /**
   * kubelet's cgroup driver: systemd where systemd is PID 1 (SystemdCgroup = true, pods in slices),
   * else cgroupfs; CRI_CGROUP_DRIVER=cgroupfs|systemd decides otherwise.
   */
  systemd: boolean;
  /** The lane's own cgroup parent: "/tsrun-cri-<id>" (cgroupfs) or the slice "tsruncri<id>.slice" (systemd). */
  cgroupRoot: string;
  /** The pods' log directories live under here. */
  logRoot: string;
  bridge: string;
  subnetPrefix: string;
  /** Host dirs (/run/containerd/..., /var/run/netns, /var/lib/cni/...) that the lane's start found missing. */
  madeDirs: string[];
  ctr(args: string[], timeoutMs?: number): Promise<CmdResult>;
  /** Stops the lane (once; later calls return the first one's notes): what it had to clean up. */
  stop(): Promise<string[]>;
}

function netnsNames(): Set<string> {
  try {
    return new Set(readdirSync('/var/run/netns'));
  } catch {
    return new Set();
  }
}

/** Removes a cgroup directory tree in every hierarchy, deepest first (only empty ones go). */
function removeCgroupTree(rel: string): string[] {
  const left: string[] = [];
  for (const top of cgroupDirs(rel)) {
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    try {
      walk(top);
    } catch {
      continue;
    }
    for (const d of dirs.sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        if (existsSync(d)) left.push(d);
      }
    }
  }
  return left;
}

/** kubelet's choice: the systemd driver where systemd is PID 1. */
export function systemdCgroupDriver(): boolean {
  const want = process.env.CRI_CGROUP_DRIVER;
  if (want === 'systemd' || want === 'cgroupfs') return want === 'systemd';
  return existsSync('/run/systemd/system');
}

/** systemd units of a lane (its slices and the scopes in them), any state. */
async function laneUnits(tag: string): Promise<string[]> {
  const r = await cmd(['systemctl', 'list-units', '--all', '--no-legend', '--plain']);
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((u) => u.startsWith(`tsruncri${tag}`));
}

export async function startLane(images: Images): Promise<Lane> {
  const systemd = systemdCgroupDriver();
  const rts = runtimes();
  const tsrun = rts.find((r) => r.name === 'tsrun')!.path;
  const runc = rts.find((r) => r.name === 'runc')!.path;
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-cri-'));
  const tag = Math.random().toString(16).slice(2, 8);
  const sock = join(dir, 'containerd.sock');
  const cniConf = join(dir, 'cni', 'net.d');
  const logRoot = join(dir, 'pod-logs');
  mkdirSync(cniConf, { recursive: true });
  mkdirSync(logRoot, { recursive: true });
  const bridge = `tcri${tag}`;
  const subnetPrefix = `10.${200 + (parseInt(tag.slice(0, 2), 16) % 50)}.${parseInt(tag.slice(2, 4), 16)}`;
  writeFileSync(
    join(cniConf, '10-tsrun-cri.conflist'),
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: `tsrun-cri-${tag}`,
        plugins: [
          {
            type: 'bridge',
            bridge,
            isGateway: true,
            ipMasq: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: `${subnetPrefix}.0/24` }]], dataDir: join(dir, 'cni', 'ipam') },
          },
        ],
      },
      null,
      2,
    ),
  );
  const streamPort = await freePort();
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[debug]
  level = "debug"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${images.pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "${streamPort}"
  enable_selinux = false
  # No CAP_SYS_RESOURCE here (a container host): oom_score_adj no lower than containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${cniConf}"
    max_conf_num = 1

` +
      snippet('containerd.toml', tsrun) +
      // (still in the tsrun handler's options table, which the snippet ends with)
      `      SystemdCgroup = ${systemd}
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${runc}"
        SystemdCgroup = ${systemd}
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.missing]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.missing.options]
      BinaryName = "${dir}/no-such-runtime"
      SystemdCgroup = ${systemd}
`,
  );
  const hostDirs = [
    '/run/containerd',
    '/run/containerd/s',
    '/run/containerd/runc',
    RUNTIME_ROOT,
    '/run/containerd/fifo',
    '/var/run/netns',
    '/var/lib/cni',
    '/var/lib/cni/results',
    '/run/containerd/io.containerd.grpc.v1.cri',
  ];
  const madeDirs = hostDirs.filter((d) => !existsSync(d));
  const removeHostDirs = removeLaterIfMadeNow(hostDirs);
  const netnsBefore = netnsNames();
  const ctr = (args: string[], timeoutMs = 60_000) => cmd(['ctr', '--address', sock, '--namespace', NAMESPACE, ...args], { timeoutMs });
  const cgroupRoot = systemd ? `tsruncri${tag}.slice` : `/tsrun-cri-${tag}`;

  let daemon: Daemon;
  try {
    daemon = await startDaemon('containerd', ['containerd', '--config', config], join(dir, 'containerd.log'), async () => (await ctr(['version'], 5000)).code === 0);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    removeHostDirs();
    throw e;
  }
  const cri = new CriClient(sock);

  let stopped: Promise<string[]> | undefined;
  const stop = (): Promise<string[]> => (stopped ??= stopOnce());
  const stopOnce = async (): Promise<string[]> => {
    const notes: string[] = [];
    // What a failed check left: pods (their containers go with them), then the daemon.
    try {
      const pods = (await cri.call('ListPodSandbox', {}, 20_000)).items as { id: string }[];
      for (const p of pods) {
        notes.push(`left pod ${p.id.slice(0, 12)} removed at the end`);
        await cri.call('StopPodSandbox', { pod_sandbox_id: p.id }, 60_000).catch(() => {});
        await cri.call('RemovePodSandbox', { pod_sandbox_id: p.id }, 60_000).catch((e: Error) => notes.push(`RemovePodSandbox ${p.id}: ${e.message}`));
      }
    } catch (e) {
      notes.push(`listing pods at the end: ${(e as Error).message}`);
    }
    cri.close();
    // Any task still there (e.g. of a pod whose removal failed): SIGKILL and delete.
    const tasks = await ctr(['task', 'ls', '--quiet']);
    for (const id of tasks.stdout.split('\n').filter(Boolean)) {
      notes.push(`left task ${id.slice(0, 12)} killed at the end`);
      await ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
      await ctr(['task', 'delete', '--force', id]);
    }
    await daemon.stop();
    // CRI_LANE_LOG=FILE keeps containerd's debug log (the shims' and runtimes' errors).
    if (process.env.CRI_LANE_LOG) copyFileSync(daemon.logFile, process.env.CRI_LANE_LOG);
    await cmd(['ip', 'link', 'del', bridge]);
    for (const n of netnsNames()) {
      if (netnsBefore.has(n)) continue;
      notes.push(`netns ${n} left: removed`);
      await cmd(['ip', 'netns', 'del', n]);
    }
    if (systemd) {
      // The pods' slices (systemd made them for the scopes in them): stopped with the lane's.
      await cmd(['systemctl', 'stop', cgroupRoot]);
      for (const u of await laneUnits(tag)) notes.push(`unit ${u} left`);
    } else for (const d of removeCgroupTree(cgroupRoot)) notes.push(`cgroup ${d} still in use`);
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    removeHostDirs();
    return notes;
  };

  try {
    for (const archive of [images.pauseArchive, images.busyboxArchive]) {
      const imp = await ctr(['images', 'import', '--all-platforms', archive], 120_000);
      if (imp.code !== 0) throw new Error(`ctr -n ${NAMESPACE} images import ${archive}: ${imp.stderr}`);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, sock, cri, daemon, images, rts, systemd, cgroupRoot, logRoot, bridge, subnetPrefix, madeDirs, ctr, stop };
}

/**
 * A test file's lane: skips the file (not root) or fails it (the lane did not start), and stops
 * the lane at the file's teardown, printing what its clean-up had to do.
 */
export async function laneForTestFile(t: typeof import('tap').default): Promise<Lane> {
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
  return lane;
}
