// The state store: exclusive create, atomic replace, clear errors, ids that cannot escape.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Store } from '../../src/container/store.js';
import { BUN, exited, record, sleep, tempDir } from './fixtures/support.js';

t.test('createDir is exclusive and makes 0711 root / 0700 container dirs', async (t) => {
  const root = join(tempDir(t), 'root');
  const store = new Store(root);
  const dir = store.createDir('c1');
  t.equal(dir, join(root, 'c1'));
  t.equal(fs.statSync(root).mode & 0o777, 0o711);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
  t.throws(() => store.createDir('c1'), { message: 'container with id c1 already exists' });
});

t.test('save, load, list, remove', async (t) => {
  const store = new Store(tempDir(t));
  t.same(store.list(), []);
  t.throws(() => store.load('c1'), { message: 'container c1 does not exist' });
  t.equal(store.tryLoad('c1'), undefined);
  store.createDir('c2');
  store.createDir('c1');
  t.same(store.list(), [], 'a directory without state.json is not a container yet');
  const r1 = record('c1', 0);
  store.save(r1);
  store.save(record('c2', 0, { status: 'running' }));
  t.same(store.load('c1'), r1);
  t.same(store.list(), ['c1', 'c2']);
  t.same(fs.readdirSync(join(store.root, 'c1')), ['state.json'], 'no temporary file left behind');
  store.remove('c1');
  t.same(store.list(), ['c2']);
  store.remove('c1');
  t.throws(() => store.save(r1), { message: 'container c1 does not exist' }, 'save needs the directory');
});

t.test('a corrupt state.json is a clear error', async (t) => {
  const store = new Store(tempDir(t));
  store.createDir('bad');
  fs.writeFileSync(join(store.root, 'bad', 'state.json'), '{"id":"bad", "pid": 1');
  t.throws(() => store.load('bad'), { message: /^the state of container bad is corrupt \(.*state\.json\): / });
  fs.writeFileSync(join(store.root, 'bad', 'state.json'), '{"id":"other"}');
  t.throws(() => store.load('bad'), { message: /the state of container bad is corrupt .*not a container record/ });
});

t.test('ids are validated before the filesystem is touched', async (t) => {
  const base = tempDir(t);
  const root = join(base, 'root');
  const store = new Store(root);
  for (const id of ['../escape', '..', '.', 'a/b', '/abs', '', 'a\0b']) {
    t.throws(() => store.createDir(id), { message: /container id|invalid container ID format/ }, JSON.stringify(id));
    t.throws(() => store.load(id), { message: /container id|invalid container ID format/ }, JSON.stringify(id));
    t.throws(() => store.save(record(id, 0)), { message: /container id|invalid container ID format/ }, JSON.stringify(id));
    t.throws(() => store.remove(id), { message: /container id|invalid container ID format/ }, JSON.stringify(id));
  }
  t.same(fs.readdirSync(base), [], 'nothing was created');
});

t.test('readers never see a partial state.json while another process saves', async (t) => {
  const root = tempDir(t);
  const store = new Store(root);
  store.createDir('big');
  store.save(record('big', 0));
  const writer = spawn(BUN, [join(import.meta.dirname, 'fixtures/save-loop.ts'), root, 'big'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => writer.kill('SIGKILL'));
  await new Promise<void>((r) => writer.stdout!.once('data', () => r()));
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const r = store.load('big'); // throws on a torn read
    seen.add(r.annotations?.n ?? 'none');
    if (i % 100 === 0) await sleep(1);
  }
  writer.kill('SIGKILL');
  await exited(writer);
  t.ok(seen.size > 1, `saw ${seen.size} different versions, each complete`);
  const leftovers = fs.readdirSync(join(root, 'big')).filter((f) => f !== 'state.json');
  t.ok(leftovers.every((f) => /^\.state\.json\.\d+\.tmp$/.test(f)), 'only a killed writer\'s own temporary file can remain');
  t.equal(store.load('big').id, 'big', 'state.json itself is intact after the writer was killed mid-way');
});
