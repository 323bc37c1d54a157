// Rootless: a non-root user runs tsrun with a user namespace config (`tsrun spec --rootless`).
// The state moves to $XDG_RUNTIME_DIR/tsrun, cgroups that are not delegated are skipped, and
// multi-id mappings go through newuidmap/newgidmap (Debian's uidmap) with /etc/subuid ranges.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { context, sampleRootfs, tsrunBin } from '../helpers/index.js';

const USER = 'tsrun-rootless';
const UID = 1987;

function ensureUser(): void {
  if (spawnSync('id', [USER]).status !== 0) {
    const r = spawnSync('useradd', ['-M', '-u', String(UID), '-s', '/bin/sh', USER], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`useradd: ${r.stderr}`);
  }
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
    if (!text.split('\n').some((l) => l.startsWith(`${USER}:`))) appendFileSync(f, `${USER}:300000:65536\n`);
  }
}

/** Runs a shell script as the rootless user, with its own XDG_RUNTIME_DIR. */
function asUser(script: string, xdg: string) {
  return spawnSync('runuser', ['-u', USER, '--', 'sh', '-c', script], {
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', XDG_RUNTIME_DIR: xdg, HOME: '/tmp' },
    timeout: 60_000,
  });
}

ensureUser();

/** The user's first subordinate id range, as newuidmap checks it. */
function subRange(file: string): { start: number; size: number } {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))!;
  const [, start, size] = line.split(':');
  return { start: Number(start), size: Math.min(Number(size), 65536) };
}

function userBundle(t: Test, name: string): { dir: string; xdg: string } {
  chmodSync(context(t).dir, 0o711); // the user must reach its bundle through the test's dir
  const base = join(context(t).dir, name);
  const dir = join(base, 'bundle');
  const xdg = join(base, 'xdg');
  mkdirSync(dir, { recursive: true });
  mkdirSync(xdg, { recursive: true });
  const cp = spawnSync('cp', ['-a', sampleRootfs, join(dir, 'rootfs')]);
  if (cp.status !== 0) throw new Error('copy rootfs');
  spawnSync('chown', ['-R', `${UID}:${UID}`, base]);
  chownSync(base, UID, UID);
  return { dir, xdg };
}

t.test('a non-root user runs the rootless spec: run, create/start/exec/kill/delete', async (t) => {
  const { dir, xdg } = userBundle(t, 'single');
  const T = tsrunBin();
  const spec = asUser(`cd ${dir} && ${T} spec --rootless && python3 -c "
import json; c = json.load(open('config.json'))
c['process']['terminal'] = False
c['process']['args'] = ['sleep', '100']
json.dump(c, open('config.json', 'w'))"`, xdg);
  t.equal(spec.status, 0, 'tsrun spec --rootless', { stderr: spec.stderr });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  t.ok(cfg.linux.namespaces.some((n: { type: string }) => n.type === 'user'), 'the rootless spec has a user namespace');
  t.equal(cfg.linux.uidMappings[0].hostID, UID, 'it maps the user');

  const run = asUser(`cd ${dir} && ${T} run --bundle ${dir} -d r1 >/dev/null; ${T} exec r1 id; ${T} state r1`, xdg);
  t.equal(run.status, 0, 'run --detach, exec, state as the user', { stderr: run.stderr });
  t.match(run.stdout, /uid=0\(root\)/, 'root inside the container');
  t.match(run.stdout, /"status": "running"/, 'state: running');
  t.ok(existsSync(join(xdg, 'tsrun', 'r1')), 'the state lives under $XDG_RUNTIME_DIR/tsrun');
  const stop = asUser(`${T} kill r1 KILL; i=0; while [ $i -lt 50 ] && ${T} state r1 | grep -q running; do sleep 0.1; i=$((i+1)); done; ${T} delete r1`, xdg);
  t.equal(stop.status, 0, 'kill and delete as the user', { stderr: stop.stderr });
  t.same(readdirSync(join(xdg, 'tsrun')), [], 'nothing left under the rootless root');
});

t.test('a multi-id mapping goes through newuidmap/newgidmap', async (t) => {
  if (!existsSync('/usr/bin/newuidmap')) t.fail('newuidmap is missing: install Debian uidmap (make deps does)');
  const { dir, xdg } = userBundle(t, 'multi');
  const T = tsrunBin();
  const su = subRange('/etc/subuid');
  const sg = subRange('/etc/subgid');
  const patch = `python3 -c "
import json; c = json.load(open('config.json'))
c['process']['terminal'] = False
c['process']['args'] = ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map']
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': ${UID}, 'size': 1}, {'containerID': 1, 'hostID': ${su.start}, 'size': ${su.size}}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': ${UID}, 'size': 1}, {'containerID': 1, 'hostID': ${sg.start}, 'size': ${sg.size}}]
json.dump(c, open('config.json', 'w'))"`;
  const r = asUser(`cd ${dir} && ${T} spec --rootless && ${patch} && ${T} run --bundle ${dir} m1`, xdg);
  t.equal(r.status, 0, 'run with two mappings as the user', { stderr: r.stderr });
  t.match(r.stdout, new RegExp(`^\\s*1\\s+${su.start}\\s+${su.size}$`, 'm'), 'the subordinate range is mapped');
  t.same(readdirSync(join(xdg, 'tsrun')), [], 'nothing left');
});

t.test('rootless without delegated cgroups: limits are refused with a clear error', async (t) => {
  const { dir, xdg } = userBundle(t, 'limits');
  const T = tsrunBin();
  const patch = `python3 -c "
import json; c = json.load(open('config.json'))
c['process']['terminal'] = False
c['process']['args'] = ['true']
c['linux']['resources'] = {'memory': {'limit': 33554432}}
json.dump(c, open('config.json', 'w'))"`;
  const r = asUser(`cd ${dir} && ${T} spec --rootless && ${patch} && ${T} run --bundle ${dir} l1`, xdg);
  t.not(r.status, 0, 'run fails');
  t.match(r.stderr, /^tsrun: run l1: rootless: the cgroup .* is not delegated to this user, so linux\.resources\.memory cannot be applied/, 'one clear line', { stderr: r.stderr });
  t.equal(r.stderr.trim().split('\n').length, 1, 'exactly one line');
  t.same(readdirSync(join(xdg, 'tsrun')), [], 'nothing left');
});
