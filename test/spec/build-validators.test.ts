// scripts/build-validators.ts: standalone ESM validators, no schema compilation at run time,
// deterministic output, usable from Node (tests) and Bun (the built executable).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildValidators, ensureValidators, GENERATED, REPO, tempDir } from './fixtures/support.js';

ensureValidators();
const code = readFileSync(GENERATED, 'utf8');

t.test('imports only ajv runtime helpers, never the compiler', async (t) => {
  const imports = [...code.matchAll(/\bimport\s+[\w$]+\s+from\s+"([^"]+)"/g)].map((m) => m[1]);
  for (const i of imports) t.match(i, /^ajv\/dist\/runtime\/[\w/]+\.js$/, `imports ${i}`);
  t.notMatch(code, /\brequire\(/, 'no require()');
  t.notMatch(code, /from\s+["']ajv["']/, 'no import of ajv itself');
  t.notMatch(code, /ajv\/dist\/(compile|core|ajv|standalone)/, 'no compiler module');
  t.notMatch(code, /new Function|\beval\(/, 'no code generation at run time');
});

t.test('exports the four validators, as its .d.ts says', async (t) => {
  const mod = await import('../../src/spec/generated/validators.js');
  for (const name of ['validateConfig', 'validateState', 'validateFeatures', 'validateProcess'] as const) {
    t.type(mod[name], 'function', name);
  }
  const dts = readFileSync(join(REPO, 'src/spec/generated/validators.d.ts'), 'utf8');
  for (const name of ['validateConfig', 'validateState', 'validateFeatures', 'validateProcess']) t.match(dts, `export declare const ${name}: CompiledValidator;`);
  t.equal(mod.validateConfig({ ociVersion: '1.0.0', root: { path: 'rootfs' } }), true);
  t.equal(mod.validateConfig({ ociVersion: 1, root: { path: 'rootfs' } }), false);
  t.match(mod.validateConfig.errors?.[0], { instancePath: '/ociVersion', keyword: 'type' });
  t.equal(mod.validateProcess({ cwd: '/', args: ['sh'] }), true);
  t.equal(mod.validateProcess({ cwd: '/', user: { uid: 'x', gid: 0 } }), false);
  t.match(mod.validateProcess.errors?.[0], { instancePath: '/user/uid', keyword: 'type' });
});

t.test('the same schemas give the same code', async (t) => {
  const a = tempDir(t);
  const b = tempDir(t);
  buildValidators(a);
  buildValidators(b);
  const ta = readFileSync(join(a, 'validators.js'), 'utf8');
  t.equal(ta, readFileSync(join(b, 'validators.js'), 'utf8'), 'deterministic');
  t.equal(ta, code, 'src/spec/generated holds the current build output');
});

t.test('loads under Bun', async (t) => {
  const bun = join(REPO, 'node_modules/.bin/bun');
  const script = `import { validateConfig as v } from ${JSON.stringify(GENERATED)}; console.log(v({ ociVersion: '1.0.0', root: { path: 'r' }, process: { cwd: '/', args: [] } }), JSON.stringify(v.errors[0].instancePath));`;
  const r = spawnSync(bun, ['-e', script], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim(), 'false "/process/args"');
});

t.test('a schema without $id is refused', async (t) => {
  const dir = tempDir(t);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'x.json'), '{"type": "object"}');
  const r = spawnSync(
    join(REPO, 'node_modules/.bin/bun'),
    ['-e', `import { buildValidatorsSource } from ${JSON.stringify(join(REPO, 'scripts/build-validators.ts'))}; buildValidatorsSource(${JSON.stringify(dir)});`],
    { encoding: 'utf8' },
  );
  t.not(r.status, 0);
  t.match(r.stderr, /schema\/x\.json has no \$id/);
});
