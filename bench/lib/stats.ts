// Medians, p90 and the results table.

export function quantile(xs: number[], q: number): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

export const median = (xs: number[]) => quantile(xs, 0.5);
export const p90 = (xs: number[]) => quantile(xs, 0.9);

export type Unit = 'ms' | 's' | 'kB' | 'KiB' | 'MiB' | 'count';

export interface Row {
  section: string;
  label: string;
  unit: Unit;
  /** runtime name -> samples (a median and p90 are shown when there are several). */
  samples: Map<string, number[]>;
  /** Show p90 beside the median. */
  spread?: boolean;
  /** Text shown instead of a number (e.g. "fails at 64 MiB"). */
  notes?: Map<string, string>;
}

export function row(section: string, label: string, unit: Unit, spread = false): Row {
  return { section, label, unit, samples: new Map(), spread };
}

export function add(r: Row, runtime: string, ...values: number[]): void {
  const s = r.samples.get(runtime) ?? [];
  s.push(...values);
  r.samples.set(runtime, s);
}

export function note(r: Row, runtime: string, text: string): void {
  (r.notes ??= new Map()).set(runtime, text);
}

function fmt(x: number, unit: Unit): string {
  if (!Number.isFinite(x)) return '–';
  switch (unit) {
    case 'ms':
      return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
    case 's':
      return x.toFixed(2);
    case 'MiB':
      return x < 10 ? x.toFixed(1) : x.toFixed(0);
    default:
      return String(Math.round(x));
  }
}

function cell(r: Row, rt: string): string {
  const n = r.notes?.get(rt);
  const s = r.samples.get(rt);
  if (!s || s.length === 0) return n ?? '–';
  const m = fmt(median(s), r.unit);
  const body = r.spread && s.length > 1 ? `${m} (${fmt(p90(s), r.unit)})` : m;
  return n ? `${body} ${n}` : body;
}

function ratio(r: Row, a: string, b: string): string {
  const x = median(r.samples.get(a) ?? []);
  const y = median(r.samples.get(b) ?? []);
  if (!Number.isFinite(x) || !Number.isFinite(y) || y === 0) return '–';
  return `${(x / y).toFixed(2)}×`;
}

/** The markdown table: one row per measurement, runtimes as columns, then tsrun/runc and tsrun/crun. */
export function table(rows: Row[], runtimes: string[]): string {
  const others = runtimes.filter((r) => r !== 'tsrun');
  const ratioCols = runtimes.includes('tsrun') ? others.map((o) => `tsrun/${o}`) : [];
  const head = ['measurement', ...runtimes, ...ratioCols];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      lines.push(`| **${section}** |${' |'.repeat(head.length - 1)}`);
    }
    const cells = [`${r.label} (${r.unit})`, ...runtimes.map((rt) => cell(r, rt)), ...others.filter(() => ratioCols.length > 0).map((o) => ratio(r, 'tsrun', o))];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
