// docs/engines.md shows the configuration the engine tests use: each file under
// test/engines/config/ must appear in it verbatim, inside a fenced block.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { configDir, DOC_TSRUN_PATH, repoRoot } from './lib/setup.js';

const doc = readFileSync(join(repoRoot, 'docs', 'engines.md'), 'utf8');
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const files = readdirSync(configDir).sort();

t.same(files, ['containerd.toml', 'containers.conf', 'daemon.json'], 'the documented snippets');
for (const f of files) {
  const text = readFileSync(join(configDir, f), 'utf8');
  t.ok(doc.includes('\n' + text + '```\n'), `docs/engines.md includes config/${f} verbatim as a fenced block`);
  t.ok(readme.includes('\n' + text + '```\n'), `README.md includes config/${f} verbatim as a fenced block`);
  t.ok(text.includes(DOC_TSRUN_PATH), `config/${f} names ${DOC_TSRUN_PATH} (the tests put the real path there)`);
}
t.doesNotThrow(() => JSON.parse(readFileSync(join(configDir, 'daemon.json'), 'utf8')), 'daemon.json is JSON');
