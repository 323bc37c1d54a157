// The per-container lock: mutual exclusion between processes, stale locks of dead or
// recycled owners taken over (also by many processes at once), live owners waited for.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { isStale, lockPath, removeStale, stealToken, withLock } from '../../src/container/lock.js';
import { BUN, exited, spawnSleep, startTimeOf, tempDir } from './fixtures/support.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);

function run(args: string[]): ChildProcess {
  return spawn(BUN, args, { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function finished(child: ChildProcess): Promise<number | null> {
  await exited(child);
  return child.exitCode;
}

/** Races `procs` processes, each taking the lock `n` times; checks the log and the counter. */
async function race(t: Test, root: string, procs: number, n: number): Promise<void> {
  const dir = tempDir(t);
  const counter = join(dir, 'counter');
  const log = join(dir, 'log');
  fs.writeFileSync(counter, '0');
  fs.writeFileSync(log, '');
  const children = Array.from({ length: procs }, () => run([fixture('lock-worker.ts'), root, 'c1', String(n), counter, log]));
  const codes = await Promise.all(children.map(finished));
  t.same(codes, codes.map(() => 0), 'every worker finished');
  t.equal(fs.readFileSync(counter, 'utf8'), String(procs * n), 'no lost update');
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  let holder: string | undefined;
  let overlaps = 0;
  for (const l of lines) {
    const [what, pid] = l.split(' ');
    if (what === 'enter') {
      if (holder !== undefined) overlaps++;
      holder = pid;
    } else {
      if (holder !== pid) overlaps++;
      holder = undefined;
    }
  }
  t.equal(lines.length, 2 * procs * n);
  t.equal(overlaps, 0, 'never two holders at once');
}

t.test('two processes racing for the same lock: one at a time', async (t) => {
  const root = containerDirs(tempDir(t));
  await race(t, root, 2, 40);
  t.same(fs.readdirSync(join(root, 'c1')), [], 'no lock or temporary file left');
});

t.test('a lock left by a dead owner is taken over', async (t) => {
  const root = containerDirs(tempDir(t));
  const gone = spawnSleep(t, ['true']);
  await exited(gone);
  fs.mkdirSync(join(root, 'c1'), { recursive: true });
  fs.writeFileSync(lockPath(root, 'c1'), `${gone.pid} 12345\n`);
  t.equal(isStale(`${gone.pid} 12345\n`), true);
  let ran = false;
  await withLock(root, 'c1', () => { ran = true; }, { timeoutMs: 200 });
  t.equal(ran, true);
  t.equal(fs.existsSync(lockPath(root, 'c1')), false, 'released');
});

t.test('a lock whose pid now belongs to another process (other start time) is taken over', async (t) => {
  const root = containerDirs(tempDir(t));
  const live = spawnSleep(t);
  const wrong = startTimeOf(live.pid) + 1;
  fs.mkdirSync(join(root, 'c1'), { recursive: true });
  fs.writeFileSync(lockPath(root, 'c1'), `${live.pid} ${wrong}\n`);
  t.equal(isStale(`${live.pid} ${wrong}\n`), true);
  t.equal(isStale(`${live.pid} ${startTimeOf(live.pid)}\n`), false);
  await withLock(root, 'c1', () => {}, { timeoutMs: 200 });
  t.pass('acquired');
});

t.test('a live holder makes others wait, then fail with "busy"; once it dies its lock is taken over', async (t) => {
  const root = containerDirs(tempDir(t));
  const holder = run([fixture('lock-holder.ts'), root, 'c1']);
  t.teardown(() => holder.kill('SIGKILL'));
  await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
  await t.rejects(withLock(root, 'c1', () => {}, { timeoutMs: 300 }), { message: `container c1 is busy (locked by pid ${holder.pid})` });
  await withLock(root, 'c2', () => {}, { timeoutMs: 300 });
  t.pass('another container is not affected');
  holder.kill('SIGKILL');
  await exited(holder);
  await withLock(root, 'c1', () => {}, { timeoutMs: 300 });
  t.pass('the crashed holder\'s lock was taken over');
});

t.test('many processes taking over the same stale lock still exclude each other', async (t) => {
  const root = containerDirs(tempDir(t));
  const gone = spawnSleep(t, ['true']);
  await exited(gone);
  fs.mkdirSync(join(root, 'c1'), { recursive: true });
  fs.writeFileSync(lockPath(root, 'c1'), `${gone.pid} ${1}\n`);
  await race(t, root, 6, 10);
});

// The interleavings of two stealers, played deterministically.
t.test('a stealer never removes a lock that is no longer the stale one it saw', async (t) => {
  const root = containerDirs(tempDir(t));
  const live = spawnSleep(t);
  const liveId = `${live.pid} ${startTimeOf(live.pid)}\n`;
  const dead = spawnSleep(t, ['true']);
  await exited(dead);
  const deadId = `${dead.pid} 1\n`;
  const file = lockPath(root, 'c1');
  fs.mkdirSync(join(root, 'c1'), { recursive: true });
  const mine = join(root, 'c1', 'mine');
  fs.writeFileSync(mine, `${process.pid} ${startTimeOf(process.pid)}\n`);

  // B read the stale deadId, A took the lock over meanwhile: B must leave A's lock alone.
  fs.writeFileSync(file, liveId);
  removeStale(file, deadId, mine);
  t.equal(fs.readFileSync(file, 'utf8'), liveId, 'the live lock survives a late stealer');

  // Another stealer (alive) holds the token for this stale lock: wait for it, do not race it.
  fs.writeFileSync(file, deadId);
  fs.writeFileSync(stealToken(file, deadId), liveId);
  removeStale(file, deadId, mine);
  t.equal(fs.readFileSync(file, 'utf8'), deadId, 'not removed while another stealer is at work');

  // That stealer died holding the token: its token is stale too and gets cleared, then the lock.
  fs.writeFileSync(stealToken(file, deadId), deadId);
  await withLock(root, 'c1', () => {}, { timeoutMs: 500 });
  t.same(fs.readdirSync(join(root, 'c1')).sort(), ['mine'], 'lock, tokens and temporary files gone');
});

t.test('re-entrant within one process', async (t) => {
  const root = containerDirs(tempDir(t));
  const v = await withLock(root, 'c1', () => withLock(root, 'c1', () => 42, { timeoutMs: 100 }), { timeoutMs: 100 });
  t.equal(v, 42);
  t.equal(fs.existsSync(lockPath(root, 'c1')), false);
});

t.test('the lock path cannot escape the root', async (t) => {
  t.throws(() => lockPath('/r', '../x'), { message: 'invalid container ID format' });
  await t.rejects(withLock('/r', 'a/b', () => {}), { message: 'invalid container ID format' });
});

/** The lock lives in the container's own directory: make the ones the tests use. */
function containerDirs(root: string): string {
  for (const id of ['c1', 'c2']) fs.mkdirSync(join(root, id), { recursive: true });
  return root;
}
