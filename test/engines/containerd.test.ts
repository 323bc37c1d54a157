// containerd (Debian 1.6, the runc v2 shim) running containers through tsrun,
// each scenario once with tsrun and once with runc as the control. The test
// starts its own containerd (own root, state, socket; CRI configured with the
// documented snippet test/engines/config/containerd.toml) and stops it at the
// end. Containers are started with `ctr run --runc-binary <runtime>`.
//
// The shim passes the runtime `--root /run/containerd/runc/<namespace>` and
// `--log <bundle>/log.json --log-format json`; the shim puts the runtime's last
// error into ctr's message, and containerd's debug log (shown on failure) has
// the rest.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, quote, type CmdOptions, type CmdResult } from './lib/cmd.js';
import { Controls, expectExit, expectOutput, type Diagnostics } from './lib/check.js';
import { startDaemon, type Daemon } from './lib/daemon.js';
import { readHostFile, removeEmptyCgroups, removeLaterIfMadeNow, unmountUnder } from './lib/host.js';
import { assertNoLeaks } from './lib/leaks.js';
import { setUpOrExit, snippet, uniqueName, type Runtime } from './lib/setup.js';

const { prep, rts, tsrunPath } = await setUpOrExit(['containerd']);
const controls = new Controls();

const dir = mkdtempSync(join(tmpdir(), 'tsrun-engines-ctd-'));
const sock = join(dir, 'containerd.sock');
const ns = uniqueName('tsrun-e2e-ns');
const runtimeRoot = `/run/containerd/runc/${ns}`;
const taskDir = join(dir, 'state', 'io.containerd.runtime.v2.task', ns);
const config = join(dir, 'config.toml');
const removeHostDirs = removeLaterIfMadeNow(['/run/containerd', '/run/containerd/s', '/run/containerd/runc', '/run/containerd/fifo']);
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

` + snippet('containerd.toml', tsrunPath),
);

const ctr = (args: string[], opts: CmdOptions = {}) => cmd(['ctr', '--address', sock, '--namespace', ns, ...args], opts);

let daemon: Daemon | undefined;
try {
  daemon = await startDaemon('containerd', ['containerd', '--config', config], join(dir, 'containerd.log'), async () => {
    return (await ctr(['version'], { timeoutMs: 5000 })).code === 0;
  });
} catch (e) {
  t.fail(`start containerd: ${(e as Error).message}`);
}

t.teardown(async () => {
  if (daemon) {
    // Whatever a failed scenario left running goes first, so that the shims exit.
    const tasks = await ctr(['task', 'ls', '--quiet']);
    for (const id of tasks.stdout.split('\n').filter(Boolean)) {
      await ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
      await ctr(['task', 'delete', '--force', id]);
    }
    const cs = await ctr(['container', 'ls', '--quiet']);
    for (const id of cs.stdout.split('\n').filter(Boolean)) await ctr(['container', 'delete', id]);
    await daemon.stop();
  }
  removeEmptyCgroups(ns);
  try {
    rmdirSync(runtimeRoot);
  } catch {
    // not made, or not empty (then the leak checks said so)
  }
  removeHostDirs();
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
});

if (daemon) {
  const imp = await ctr(['images', 'import', '--all-platforms', prep.ociArchive], { timeoutMs: 120_000 });
  if (imp.code !== 0) t.fail(`ctr images import ${prep.ociArchive}`, { stderr: imp.stderr });
  else defineTests(daemon);
}

interface Ctx {
  t: Test;
  rt: Runtime;
  ids: string[];
  diag: Diagnostics;
}

function defineTests(d: Daemon): void {
  t.test('containerd: loads the documented CRI runtime config (runc v2 shim, BinaryName)', async (tt) => {
    const plugins = await ctr(['plugins', 'ls']);
    expectOutput(tt, plugins, /^io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok\s*$/m, 'the CRI plugin loaded with it', () => ({
      'containerd log': d.logLines('cri'),
    }));
    const dump = await cmd(['containerd', '--config', config, 'config', 'dump']);
    expectOutput(tt, dump, new RegExp(`BinaryName = "${tsrunPath.replace(/[.]/g, '\\.')}"`), 'config dump shows tsrun as BinaryName', () => ({}));
  });

  function scenario(title: string, body: (c: Ctx) => Promise<void>): void {
    for (const rt of rts) {
      t.test(`containerd: ${title} [${rt.name}]`, async (tt) => {
        const c: Ctx = {
          t: tt,
          rt,
          ids: [],
          diag: () => ({ ...controls.note(title, rt), 'containerd log (this container)': c.ids.flatMap((id) => d.logLines(id, 20)) }),
        };
        tt.teardown(async () => {
          for (const id of c.ids) {
            await ctr(['task', 'delete', '--force', id]);
            await ctr(['container', 'delete', id]);
          }
        });
        await body(c);
        controls.record(title, rt, tt);
      });
    }
  }

  const newId = (c: Ctx) => {
    const id = uniqueName('tsrun-e2e');
    c.ids.push(id);
    return id;
  };
  const noLeaks = (c: Ctx, id: string) => assertNoLeaks(c.t, id, [runtimeRoot, taskDir]);
  const LOOP = 'while true; do sleep 0.1; done';

  /** `ctr run -d` of a shell script; returns its id, or undefined when it did not start. */
  async function runDetached(c: Ctx, script: string): Promise<string | undefined> {
    const id = newId(c);
    const r = await ctr(['run', '-d', '--runc-binary', c.rt.path, prep.image, id, 'sh', '-c', script]);
    return expectExit(c.t, r, 0, 'ctr run -d', c.diag) ? id : undefined;
  }

  async function taskStatus(id: string): Promise<string> {
    const r = await ctr(['task', 'ls']);
    const line = r.stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
    return line?.trim().split(/\s+/)[2] ?? '(no task)';
  }

  async function waitStatus(id: string, want: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    let s = await taskStatus(id);
    while (s !== want && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      s = await taskStatus(id);
    }
    return s;
  }

  /** task delete + container delete, asserting both worked. */
  async function remove(c: Ctx, id: string): Promise<CmdResult> {
    const del = await ctr(['task', 'delete', id]);
    expectExit(c.t, del, 0, 'ctr task delete', c.diag);
    expectExit(c.t, await ctr(['container', 'delete', id]), 0, 'ctr container delete', c.diag);
    return del;
  }

  scenario('ctr run --rm prints the output and returns the exit code', async (c) => {
    const id = newId(c);
    const r = await ctr(['run', '--rm', '--runc-binary', c.rt.path, prep.image, id, 'sh', '-c', 'echo hello from the container; exit 7']);
    expectExit(c.t, r, 7, 'ctr run --rm sh -c "...; exit 7"', c.diag);
    expectOutput(c.t, r, /^hello from the container$/m, 'the output', c.diag);
    await noLeaks(c, id);
  });

  scenario('ctr task exec: output and exit code; ctr task ps', async (c) => {
    const id = await runDetached(c, LOOP);
    if (!id) return;
    const ex = await ctr(['task', 'exec', '--exec-id', 'probe', id, 'sh', '-c', 'echo exec says hi; exit 4']);
    expectExit(c.t, ex, 4, 'ctr task exec sh -c "...; exit 4"', c.diag);
    expectOutput(c.t, ex, /^exec says hi$/m, 'the exec output', c.diag);
    // The shim lists a task's processes with the runtime's `ps --format json`.
    const pid = (await ctr(['task', 'ls'])).stdout.split('\n').find((l) => l.startsWith(id + ' '))?.trim().split(/\s+/)[1] ?? '?';
    const ps = await ctr(['task', 'ps', id]);
    expectExit(c.t, ps, 0, 'ctr task ps', c.diag);
    expectOutput(c.t, ps, new RegExp(`^${pid}\\s`, 'm'), `ctr task ps lists the init (pid ${pid})`, c.diag);
    expectExit(c.t, await ctr(['task', 'kill', '--signal', 'SIGKILL', id]), 0, 'ctr task kill -s SIGKILL', c.diag);
    c.t.equal(await waitStatus(id, 'STOPPED'), 'STOPPED', 'the task stopped');
    await remove(c, id);
    await noLeaks(c, id);
  });

  scenario('ctr task kill delivers SIGTERM', async (c) => {
    const id = await runDetached(c, `trap 'exit 3' TERM; ${LOOP}`);
    if (!id) return;
    expectExit(c.t, await ctr(['task', 'kill', id]), 0, 'ctr task kill (SIGTERM)', c.diag);
    c.t.equal(await waitStatus(id, 'STOPPED'), 'STOPPED', 'the task stopped');
    const del = await remove(c, id);
    c.t.match(del.stderr, /exit code 3\b/, 'the trap ran: exit code 3', { stderr: del.stderr });
    await noLeaks(c, id);
  });

  scenario('ctr task pause and resume', async (c) => {
    const id = await runDetached(c, LOOP);
    if (!id) return;
    const freezer = `/sys/fs/cgroup/freezer/${ns}/${id}/freezer.state`;
    expectExit(c.t, await ctr(['task', 'pause', id]), 0, 'ctr task pause', c.diag);
    c.t.equal(await taskStatus(id), 'PAUSED', 'ctr task ls: PAUSED');
    c.t.equal(readHostFile(freezer), 'FROZEN', `${freezer} is FROZEN`);
    expectExit(c.t, await ctr(['task', 'resume', id]), 0, 'ctr task resume', c.diag);
    c.t.equal(await taskStatus(id), 'RUNNING', 'ctr task ls: RUNNING');
    c.t.equal(readHostFile(freezer), 'THAWED', `${freezer} is THAWED`);
    const ex = await ctr(['task', 'exec', '--exec-id', 'alive', id, 'echo', 'alive']);
    expectOutput(c.t, ex, /^alive$/m, 'exec works after resume', c.diag);
    await ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
    c.t.equal(await waitStatus(id, 'STOPPED'), 'STOPPED', 'the task stopped');
    await remove(c, id);
    await noLeaks(c, id);
  });

  // The runc v2 shim reads the cgroup itself for `ctr task metrics`; the
  // runtime's own view of the same container is `events --stats`, asked here
  // with the --root the shim gave it.
  scenario('ctr task metrics, and the runtime\'s events --stats of the same container', async (c) => {
    const id = await runDetached(c, LOOP);
    if (!id) return;
    const m = await ctr(['task', 'metrics', id]);
    expectExit(c.t, m, 0, 'ctr task metrics', c.diag);
    expectOutput(c.t, m, /^pids\.current\s+[1-9]\d*\s*$/m, 'pids.current >= 1', c.diag);
    expectOutput(c.t, m, /^memory\.usage_in_bytes\s+[1-9]\d*\s*$/m, 'memory.usage_in_bytes > 0', c.diag);
    expectOutput(c.t, m, /^cpuacct\.usage\s+[1-9]\d*\s*$/m, 'cpuacct.usage > 0', c.diag);
    const ev = await cmd([c.rt.path, '--root', runtimeRoot, 'events', '--stats', id]);
    expectExit(c.t, ev, 0, `${c.rt.name} --root ${runtimeRoot} events --stats`, c.diag);
    let stats: { type?: string; id?: string; data?: { pids?: { current?: number }; memory?: { usage?: { usage?: number } } } } = {};
    try {
      stats = JSON.parse(ev.stdout.split('\n')[0] ?? '') as typeof stats;
    } catch {
      // asserted below
    }
    c.t.match(stats, { type: 'stats', id }, 'a stats event for the container', { stdout: ev.stdout });
    c.t.ok((stats.data?.pids?.current ?? 0) >= 1, 'events --stats: pids.current >= 1', { stdout: ev.stdout });
    c.t.ok((stats.data?.memory?.usage?.usage ?? 0) > 0, 'events --stats: memory usage > 0', { stdout: ev.stdout });
    await ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
    c.t.equal(await waitStatus(id, 'STOPPED'), 'STOPPED', 'the task stopped');
    await remove(c, id);
    await noLeaks(c, id);
  });

  scenario('ctr run -t gives the process a terminal (console socket through the shim)', async (c) => {
    const id = newId(c);
    // ctr -t needs a terminal of its own: script(1) runs it on a fresh pty.
    const inner = ['ctr', '--address', sock, '--namespace', ns, 'run', '--rm', '-t', '--runc-binary', c.rt.path, prep.image, id, 'sh', '-c', 'tty; [ -t 1 ] && echo stdout-is-a-tty; exit 5'];
    const r = await cmd(['script', '--quiet', '--return', '--command', quote(inner), '/dev/null']);
    expectExit(c.t, r, 5, 'ctr run -t (under script)', c.diag);
    expectOutput(c.t, r, /\/dev\/pts\/\d+\r?$/m, 'tty names a pty', c.diag);
    expectOutput(c.t, r, /^stdout-is-a-tty\r?$/m, 'stdout is the terminal', c.diag);
    await noLeaks(c, id);
  });
}
