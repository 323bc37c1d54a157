// runc's integration suite (../shared/runc-integration) against tsrun and runc: the bats TAP of a
// run read into outcomes by test name, the expectations file, and the comparison table.
// Tests are compared by name: numbering shifts with skips and versions.
import { readFileSync } from 'node:fs';

export type Outcome = 'pass' | 'fail' | 'skip';

/** bats TAP ("ok 3 name", "ok 4 name # skip why", "not ok 5 name # timeout after 90s") -> name -> outcome. */
export function parseBatsTap(tap: string): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const line of tap.split('\n')) {
    const m = /^(ok|not ok) \d+ (.*)$/.exec(line);
    if (!m) continue;
    let name = m[2]!;
    let outcome: Outcome = m[1] === 'ok' ? 'pass' : 'fail';
    const skip = / # skip\b/.exec(name);
    if (skip) {
      name = name.slice(0, skip.index);
      if (outcome === 'pass') outcome = 'skip';
    }
    name = name.replace(/ # timeout after \d+s$/, '');
    out.set(name, outcome);
  }
  return out;
}

export interface Expectation {
  /** What tsrun must do on this host: pass, or fail/skip for the reason given. */
  expect: Outcome;
  reason: string;
}

/**
 * expected.tsv: `name<TAB>pass|fail|skip<TAB>reason`; # comments and blank lines ignored. A test
 * not listed is expected to pass. A fail or skip needs its reason.
 */
export function parseExpectations(text: string): Map<string, Expectation> {
  const out = new Map<string, Expectation>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const [name, expect, reason = ''] = line.split('\t');
    if (!name || (expect !== 'pass' && expect !== 'fail' && expect !== 'skip')) {
      throw new Error(`expected.tsv line ${i + 1}: want "name<TAB>pass|fail|skip<TAB>reason", got ${JSON.stringify(line)}`);
    }
    if (expect !== 'pass' && reason.trim() === '') throw new Error(`expected.tsv line ${i + 1}: "${name}" is expected to ${expect} without a reason`);
    if (out.has(name)) throw new Error(`expected.tsv line ${i + 1}: "${name}" is listed twice`);
    out.set(name, { expect, reason: reason.trim() });
  });
  return out;
}

export function loadExpectations(path: string): Map<string, Expectation> {
  return parseExpectations(readFileSync(path, 'utf8'));
}

export type Category = 'both pass' | 'runc only' | 'tsrun only' | 'both fail' | 'skipped';

export function categorize(tsrun: Outcome | undefined, runc: Outcome | undefined): Category {
  if (tsrun === 'skip' && (runc === 'skip' || runc === undefined)) return 'skipped';
  const t = tsrun === 'pass';
  const r = runc === 'pass';
  if (t && r) return 'both pass';
  if (r) return 'runc only';
  if (t) return 'tsrun only';
  return tsrun === 'skip' || runc === 'skip' ? 'skipped' : 'both fail';
}

const ORDER: Category[] = ['both pass', 'runc only', 'tsrun only', 'both fail', 'skipped'];

/** The markdown table by test name, with the counts, as docs/runc-compat.md shows it. */
export function renderTable(
  tsrun: Map<string, Outcome>,
  runc: Map<string, Outcome> | undefined,
  expectations: Map<string, Expectation>,
): string {
  const names = [...new Set([...tsrun.keys(), ...(runc?.keys() ?? [])])];
  const rows = names.map((n) => ({ n, c: categorize(tsrun.get(n), runc?.get(n)) }));
  const count = (c: Category): number => rows.filter((r) => r.c === c).length;
  const lines = [
    `| outcome | tests |`,
    `|---|---:|`,
    ...ORDER.map((c) => `| ${c} | ${count(c)} |`),
    `| tsrun passes (of ${names.length}) | ${names.filter((n) => tsrun.get(n) === 'pass').length} |`,
    ...(runc ? [`| runc passes (of ${names.length}) | ${names.filter((n) => runc.get(n) === 'pass').length} |`] : []),
    '',
    '| test | tsrun | runc | outcome | why a failure is allowed |',
    '|---|---|---|---|---|',
  ];
  const cell = (o: Outcome | undefined): string => o ?? '—';
  for (const c of ORDER) {
    for (const r of rows.filter((x) => x.c === c).sort((a, b) => a.n.localeCompare(b.n))) {
      const e = expectations.get(r.n);
      const why = e && e.expect !== 'pass' ? e.reason : '';
      lines.push(`| ${r.n.replace(/\|/g, '\\|')} | ${cell(tsrun.get(r.n))} | ${cell(runc?.get(r.n))} | ${c} | ${why.replace(/\|/g, '\\|')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
