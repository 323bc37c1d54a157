// checkpoint / restore on the host: runc's argument and state checks, and the fault paths.
// Real dumps need a kernel where CRIU works (test/vm/guest/checkpoint.vm.ts); here (kernel 6.18,
// criu 3.17) `criu check` fails, and what is tested is that every refusal and every CRIU
// failure is one clear line, exit 1, and leaves the container exactly as it was (running,
// same pid, still counting) or, for restore, leaves nothing at all.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  assertNoLeaks, context, describe, makeBundle, rootFor, rt, snapshotHost, stateOf, testingTsrun, uniqueId, waitUntil,
  type Bundle, type RtResult,
} from '../helpers/index.js';

const COUNT = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done'];
const criuWorks = spawnSync('criu', ['check', '-o', '/dev/stderr'], { stdio: 'ignore', timeout: 20_000 }).status === 0;

function oneLine(t: Test, r: RtResult, id: string, phrase: RegExp): void {
  t.not(r.status, 0, 'fails', { detail: describe(r) });
  if (!testingTsrun()) return;
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, 'one line on stderr', { stderr: r.stderr });
  t.match(lines[0], new RegExp(`^tsrun: (checkpoint|restore) ${id}: `), 'naming the command and the container');
  t.match(lines[0], phrase, 'saying what is wrong');
}

/** A running container whose shell counts in /tmp/count of its own rootfs. */
async function counting(t: Test): Promise<{ id: string; b: Bundle; pid: number; count: () => number }> {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.process.args = COUNT;
  }, { copyRootfs: true });
  const r = rt(t, ['run', '-d', '--bundle', b.dir, id]);
  t.equal(r.status, 0, 'run -d', { detail: describe(r) });
  const file = join(b.rootfs, 'tmp', 'count');
  const count = () => {
    try {
      return Number(readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      return 0;
    }
  };
  t.ok(await waitUntil(() => count() > 0, { timeoutMs: 20_000 }), 'the container counts');
  return { id, b, pid: stateOf(t, id)!.pid!, count };
}

/** The container is as it was: running, the same init, and its loop still going. */
async function unchanged(t: Test, c: { id: string; pid: number; count: () => number }): Promise<void> {
  const s = stateOf(t, c.id);
  t.equal(s?.status, 'running', 'the container still runs');
  t.equal(s?.pid, c.pid, 'with the same init');
  const before = c.count();
  t.ok(await waitUntil(() => c.count() > before, { timeoutMs: 20_000 }), 'and goes on counting');
}

t.test('the argument checks come first and change nothing', async (t) => {
  const before = snapshotHost(t);
  const c = await counting(t);
  const dir = context(t).dir;
  const img = join(dir, 'image-dir');
  // runc's checkpoint.bats "checkpoint --pre-dump (bad --parent-path)": both refused, naming --parent-path.
  oneLine(t, rt(t, ['checkpoint', '--parent-path', join(dir, 'parent-dir'), '--work-path', join(dir, 'work'), '--image-path', img, c.id]), c.id, /--parent-path must be relative/);
  oneLine(t, rt(t, ['checkpoint', '--parent-path', './parent-dir', '--image-path', img, c.id]), c.id, /invalid --parent-path \.\/parent-dir: .*no such file or directory/);
  writeFileSync(join(dir, 'afile'), '');
  mkdirSync(img);
  oneLine(t, rt(t, ['checkpoint', '--parent-path', '../afile', '--image-path', img, c.id]), c.id, /invalid --parent-path \.\.\/afile: .*not a directory/);
  oneLine(t, rt(t, ['checkpoint', '--manage-cgroups-mode', 'loose', '--image-path', img, c.id]), c.id, /--manage-cgroups-mode value "loose": use soft, full, strict or ignore/);
  oneLine(t, rt(t, ['checkpoint', '--empty-ns', 'pid', '--image-path', img, c.id]), c.id, /--empty-ns: namespace "pid" is not supported/);
  oneLine(t, rt(t, ['checkpoint', '--page-server', 'nohost', '--image-path', img, c.id]), c.id, /--page-server ADDRESS:PORT/);
  oneLine(t, rt(t, ['checkpoint', '--status-fd', '1', '--image-path', img, c.id]), c.id, /--status-fd is only meaningful with --lazy-pages/);
  oneLine(t, rt(t, ['restore', '--manage-cgroups-mode', 'x', '--bundle', c.b.dir, uniqueId(t)]), '\\S+', /--manage-cgroups-mode/);
  t.same(readdirSync(img), [], 'nothing was written to the image directory');
  t.notOk(existsSync(join(dir, 'work')), 'no work directory was made');
  await unchanged(t, c);
  t.equal(rt(t, ['delete', '--force', c.id]).status, 0, 'delete --force');
  await assertNoLeaks(t, before);
});

t.test("state checks: only a running container is checkpointed, restore needs a free id", async (t) => {
  const before = snapshotHost(t);
  const dir = context(t).dir;
  const created = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.process.args = ['true'];
  });
  t.equal(rt(t, ['create', '--bundle', b.dir, created]).status, 0, 'create');
  oneLine(t, rt(t, ['checkpoint', '--image-path', join(dir, 'i1'), created]), created, /container cannot be checkpointed in created state/);
  t.notOk(existsSync(join(dir, 'i1')), 'no image directory made');
  t.equal(rt(t, ['start', created]).status, 0, 'start');
  t.ok(await waitUntil(() => stateOf(t, created)?.status === 'stopped', { timeoutMs: 20_000 }), 'it stops');
  oneLine(t, rt(t, ['checkpoint', '--image-path', join(dir, 'i1'), created]), created, /container cannot be checkpointed in stopped state/);
  const missing = uniqueId(t);
  oneLine(t, rt(t, ['checkpoint', missing]), missing, new RegExp(`container ${missing} does not exist`));

  const c = await counting(t);
  const img = join(dir, 'img');
  mkdirSync(img);
  writeFileSync(join(img, 'descriptors.json'), '["/dev/null","/dev/null","/dev/null"]');
  oneLine(t, rt(t, ['restore', '-d', '--image-path', img, '--bundle', c.b.dir, c.id]), c.id, new RegExp(`container with id ${c.id} already exists`));
  await unchanged(t, c);
  const fresh = uniqueId(t);
  oneLine(t, rt(t, ['restore', '-d', '--image-path', join(dir, 'none'), '--bundle', c.b.dir, fresh]), fresh, /--image-path .*none: no such directory/);
  oneLine(t, rt(t, ['restore', '-d', '--image-path', dir, '--bundle', c.b.dir, fresh]), fresh, /descriptors\.json: .*not a checkpoint image directory/);
  t.equal(stateOf(t, fresh), undefined, 'no state for the refused restores');
  t.equal(rt(t, ['delete', '--force', c.id]).status, 0, 'delete --force');
  t.equal(rt(t, ['delete', created]).status, 0, 'delete');
  await assertNoLeaks(t, before);
});

t.test('features: checkpoint.enabled says whether criu check passes here', { skip: !testingTsrun() && 'tsrun only' }, async (t) => {
  const r = rt(t, ['features'], { root: null });
  t.equal(r.status, 0);
  const doc = JSON.parse(r.stdout);
  t.equal(doc.annotations['io.github.tsrun.checkpoint.enabled'], String(criuWorks), `criu check ${criuWorks ? 'passes' : 'fails'} on this kernel`);
  const none = rt(t, ['--criu', '/nonexistent/criu', 'features'], { root: null });
  t.equal(JSON.parse(none.stdout).annotations['io.github.tsrun.checkpoint.enabled'], 'false', 'false without criu');
});

t.test('CRIU missing or failing: one clear error, and the container keeps running', { skip: !testingTsrun() && 'tsrun only (--criu)' }, async (t) => {
  const before = snapshotHost(t);
  const c = await counting(t);
  const dir = context(t).dir;
  oneLine(t, rt(t, ['--criu', '/nonexistent/criu', 'checkpoint', '--image-path', join(dir, 'a'), c.id]), c.id, /criu: \/nonexistent\/criu is not an executable file/);
  oneLine(t, rt(t, ['--criu', 'no-such-criu-here', 'checkpoint', '--image-path', join(dir, 'a'), c.id]), c.id, /"no-such-criu-here" not found in PATH: install CRIU/);
  // A criu that dies at once: the session ends with its exit status, nothing is left waiting.
  const fake = join(dir, 'fake-criu');
  writeFileSync(fake, '#!/bin/sh\nexit 3\n');
  chmodSync(fake, 0o755);
  oneLine(t, rt(t, ['--criu', fake, 'checkpoint', '--image-path', join(dir, 'b'), c.id]), c.id, /criu exited without an answer \(exit status 3\)/);
  await unchanged(t, c);
  // A criu that dies after freezing the container (as a real one cut off mid-dump would):
  // the container must not stay frozen.
  const cg = readFileSync(`/proc/${c.pid}/cgroup`, 'utf8');
  const v1 = /^\d+:freezer:(.*)$/m.exec(cg)?.[1];
  const freezeFile = v1 !== undefined ? `/sys/fs/cgroup/freezer${v1}/freezer.state` : `/sys/fs/cgroup${/^0::(.*)$/m.exec(cg)![1]}/cgroup.freeze`;
  const freezer = join(dir, 'freezing-criu');
  writeFileSync(freezer, `#!/bin/sh\necho ${v1 !== undefined ? 'FROZEN' : '1'} > ${freezeFile}\nsleep 0.3\nexit 1\n`);
  chmodSync(freezer, 0o755);
  oneLine(t, rt(t, ['--criu', freezer, 'checkpoint', '--image-path', join(dir, 'c'), c.id]), c.id, /criu exited without an answer \(exit status 1\)/);
  t.match(readFileSync(freezeFile, 'utf8'), v1 !== undefined ? /THAWED/ : /0/, 'the cgroup is thawed');
  await unchanged(t, c);
  if (!criuWorks) {
    // This host: criu's kerndat set-up fails; its complaint and its log come back in the one line.
    const img = join(dir, 'real');
    const r = rt(t, ['checkpoint', '--image-path', img, c.id]);
    oneLine(t, r, c.id, new RegExp(`criu dump failed: .*Error|criu dump failed: .+ \\(criu log: ${img}/dump\\.log\\)$`));
    t.match(r.stderr, `(criu log: ${img}/dump.log)`, 'the line gives the log path');
    t.ok(existsSync(join(img, 'dump.log')), 'the log is there');
    const work = join(dir, 'work');
    const w = rt(t, ['checkpoint', '--pre-dump', '--image-path', join(dir, 'pre'), '--work-path', work, c.id]);
    t.not(w.status, 0, 'pre-dump fails too', { detail: describe(w) });
    await unchanged(t, c);
  } else {
    t.comment('criu works on this kernel: the real dump is tested in test/vm/guest/checkpoint.vm.ts');
  }
  t.equal(rt(t, ['delete', '--force', c.id]).status, 0, 'delete --force');
  await assertNoLeaks(t, before);
});

t.test('a failed restore leaves no state, cgroup, mount or process', { skip: !testingTsrun() && 'tsrun only (--criu)' }, async (t) => {
  const before = snapshotHost(t);
  const dir = context(t).dir;
  const b = makeBundle(t, (c) => {
    c.process.args = COUNT;
    c.mounts.push({ destination: '/mnt/bound', type: 'bind', source: dir, options: ['rbind', 'ro'] });
  }, { copyRootfs: true });
  const img = join(dir, 'img');
  mkdirSync(img);
  writeFileSync(join(img, 'descriptors.json'), '["pipe:[1]","pipe:[2]","pipe:[3]"]');
  const fake = join(dir, 'fake-criu');
  writeFileSync(fake, '#!/bin/sh\nexit 1\n');
  chmodSync(fake, 0o755);
  const tries: Array<[string[], RegExp]> = [[['--criu', fake], /criu exited without an answer/]];
  if (!criuWorks) tries.push([[], /criu restore failed: .+ \(criu log: .*restore\.log\)$/]);
  for (const [pre, phrase] of tries) {
    const id = uniqueId(t);
    oneLine(t, rt(t, [...pre, 'restore', '-d', '--image-path', img, '--bundle', b.dir, id]), id, phrase);
    t.equal(stateOf(t, id), undefined, 'no state');
    t.notOk(existsSync(join(rootFor(t), id)), 'no state directory');
    t.same(readdirSync(rootFor(t)).filter((n) => n.startsWith('.criu-root')), [], 'no criu root left');
    t.notOk(existsSync(`/sys/fs/cgroup/memory/${id}`) || existsSync(`/sys/fs/cgroup/pids/${id}`), 'no cgroup');
  }
  t.notOk(readFileSync('/proc/self/mountinfo', 'utf8').includes(b.rootfs), 'nothing left mounted on the rootfs');
  await assertNoLeaks(t, before);
});
