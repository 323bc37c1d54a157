// What the short commands load at start-up (issue "Performance": `state`, `kill` and `list`
// never load koffi, ajv or the shim). Two views: the static import graph of the sources (what a
// command's chunk pulls in before any of its code runs), and the files the built executable
// opens while it runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import t from 'tap';
import { REPO } from './fixtures/support.js';

const SRC = join(REPO, 'src');

/** The modules a file imports statically (type-only imports are erased; import() is lazy). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[1]!;
    if (!spec.startsWith('.')) {
      out.push(spec);
      continue;
    }
    const base = resolve(dirname(file), spec);
    const ts = base.replace(/\.js$/, '.ts');
    out.push(existsSync(ts) ? ts : base);
  }
  return out;
}

/** Every module reachable from `entry` through static imports (node builtins by name). */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    if (f.startsWith('/') && existsSync(f) && f.endsWith('.ts')) todo.push(...staticImports(f));
  }
  return seen;
}

const rel = (s: Set<string>) => [...s].map((f) => (f.startsWith(REPO) ? f.slice(REPO.length + 1) : f)).sort();
const main = join(SRC, 'main.ts');
const command = (name: string) => join(SRC, 'cli', 'commands', `${name}.ts`);

t.test('the import graph walker sees through re-exports and skips type-only imports', async (t) => {
  const create = rel(closure(command('create')));
  t.ok(create.includes('src/native/koffi.ts'), 'create reaches koffi (it clones)');
  t.ok(create.some((f) => f.startsWith('src/spec/generated/validators')), 'create reaches the validators');
  t.notOk(rel(closure(command('state'))).includes('src/spec/types.ts'), 'a type-only module is not loaded');
});

const FORBIDDEN = [/^src\/shim\//, /^src\/spec\/generated\//, /ajv/, /koffi/, /^src\/cgroups\//];

for (const name of ['state', 'kill', 'list']) {
  t.test(`${name}: no koffi, shim, validators or cgroup code at start-up`, async (t) => {
    const mods = rel(new Set([...closure(main), ...closure(command(name))]));
    t.same(mods.filter((m) => FORBIDDEN.some((re) => re.test(m))), [], 'nothing of those in the static import graph');
  });
}

// node:fs costs bun ~0.7 ms to load and node:path up to 0.3 ms, a fifth of runc's whole `state`.
for (const name of ['state', 'kill']) {
  t.test(`${name}: node:fs and node:path are not loaded by importing it`, async (t) => {
    const mods = rel(new Set([...closure(main), ...closure(command(name))]));
    t.same(mods.filter((m) => /^node:(fs|path|os|crypto|child_process|tty|url)$/.test(m)), [], 'no heavy node module');
  });
}

const tsrun = join(REPO, 'build', 'tsrun');
const strace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).status === 0;

t.test('the built state, kill and list open neither koffi.node nor the shim', { skip: !existsSync(tsrun) ? 'build/tsrun missing' : !strace ? 'strace missing' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-startup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'strace.log');
  for (const args of [['state', 'nosuch'], ['kill', 'nosuch', 'KILL'], ['list']]) {
    spawnSync('strace', ['-f', '-e', 'trace=openat,open', '-o', log, tsrun, '--root', join(dir, 'root'), ...args], { encoding: 'utf8' });
    const opened = readFileSync(log, 'utf8').split('\n').filter((l) => /open(at)?\(/.test(l));
    t.ok(opened.length > 0, `${args[0]}: strace saw the opens`);
    t.same(opened.filter((l) => /koffi\.node|libtsrun-shim\.so|libseccomp/.test(l)), [], `${args[0]}: no native module opened`);
  }
});
