// `make test` runs the project's OCI conformance suite (conformance/) against build/tsrun and
// fails on any failure: one test point per conformance test; skips keep their host reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot, tsrunBin } from '../helpers/index.js';

interface Result {
  section: string;
  name: string;
  covers: string[];
  outcome: 'pass' | 'fail' | 'skip';
  reason?: string;
  failures?: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'tsrun-conformance-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const json = join(dir, 'results.json');
const run = spawnSync('bash', [join(repoRoot, 'conformance', 'run.sh'), '--json', json], {
  cwd: repoRoot,
  env: { ...process.env, RUNTIME: tsrunBin() },
  encoding: 'utf8',
  timeout: 15 * 60_000,
  maxBuffer: 64 * 1024 * 1024,
});
const summary = (run.stdout ?? '').split('\n').filter((l) => l.startsWith('# ') && /Statements:|passed, /.test(l));
for (const l of summary) t.comment(l.slice(2));

let results: Result[] = [];
try {
  results = (JSON.parse(readFileSync(json, 'utf8')) as { tests: Result[] }).tests;
} catch (e) {
  t.fail(`the conformance suite produced no results: ${(e as Error).message}`, { stderr: (run.stderr ?? '').slice(-4000) });
}
t.ok(results.length > 200, `the suite ran (${results.length} tests)`);
for (const r of results) {
  const name = `${r.section}: ${r.name} [${r.covers.join(', ')}]`;
  if (r.outcome === 'skip') t.ok(true, name, { skip: r.reason ?? 'skipped on this host' });
  else t.ok(r.outcome === 'pass', name, r.outcome === 'fail' ? { failures: r.failures } : {});
}
t.equal(run.status, 0, 'conformance/run.sh exits 0', { stderr: (run.stderr ?? '').slice(-2000) });
