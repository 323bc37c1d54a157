// The test registry, the per-test context and its assertions.
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual, inspect } from 'node:util';
import { Runtime, type CreateOptions, type Result } from './runtime.js';
import { baseConfig, makeBundle, type Bundle, type Config } from './bundle.js';
import { sleepMs } from './util.js';
import type { Host } from './host.js';

export interface TestDef {
  section: string;
  name: string;
  covers: string[];
  fn: (t: T) => void | Promise<void>;
}

export const registry: TestDef[] = [];

/** run once after all tests (host mounts shared by several tests, ...) */
export const finalCleanups: (() => void)[] = [];

/** Register a test. `covers` names the catalogue statements it checks. */
export function test(section: string, name: string, covers: string[], fn: (t: T) => void | Promise<void>): void {
  registry.push({ section, name, covers, fn });
}

export class Skip extends Error {}
export class Abort extends Error {}

export interface Env {
  rt: Runtime;
  work: string;
  rootfs: string;
  host: Host;
  runtimeName: string;
  hostTools: string; // directory with host-side helper binaries (fdrecv)
}

let seq = 0;

export interface ProbeRun {
  id: string;
  create: Result;
  start?: Result;
  out: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  probe: Record<string, any>;
  bundle: Bundle;
}

export class T {
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  private ids: string[] = [];
  private deferred: (() => void)[] = [];
  private dirSeq = 0;
  readonly dir: string;

  constructor(readonly def: TestDef, readonly env: Env) {
    this.dir = join(env.work, 't', String(++seq));
    mkdirSync(this.dir, { recursive: true });
  }

  get rt(): Runtime { return this.env.rt; }
  get host(): Host { return this.env.host; }

  // ---- assertions -------------------------------------------------------
  ok(cond: unknown, msg: string, detail?: unknown): boolean {
    if (!cond) this.failures.push(detail === undefined ? msg : `${msg}: ${fmt(detail)}`);
    return !!cond;
  }
  equal(actual: unknown, expected: unknown, msg: string): boolean {
    const good = isDeepStrictEqual(actual, expected);
    if (!good) this.failures.push(`${msg}: expected ${fmt(expected)}, got ${fmt(actual)}`);
    return good;
  }
  fail(msg: string, detail?: unknown): void { this.ok(false, msg, detail); }
  /** record a failure and stop the test */
  abort(msg: string, detail?: unknown): never {
    this.fail(msg, detail);
    throw new Abort(msg);
  }
  skip(reason: string): never { throw new Skip(reason); }
  note(s: string): void { this.notes.push(s); }

  /** a command that must succeed; aborts the test otherwise */
  must(r: Result, what: string): Result {
    if (r.code !== 0) this.abort(`${what} failed (exit ${r.code}${r.error ? ', ' + r.error : ''})`, r.stderr.trim().slice(0, 600));
    return r;
  }
  /** a command that must fail (non-zero exit) */
  mustFail(r: Result, what: string): boolean {
    return this.ok(r.code !== 0 && r.code !== null, `${what} must generate an error (exit non-zero)`, `exit ${r.code}`);
  }

  // ---- resources ----------------------------------------------------------
  defer(fn: () => void): void { this.deferred.push(fn); }

  id(prefix = 'c'): string {
    const id = `cf-${prefix}-${process.pid}-${++seq}`;
    this.ids.push(id);
    return id;
  }
  /** register an id created by other means for cleanup */
  track(id: string): void { this.ids.push(id); }

  /** a fresh directory for this test */
  mkdir(name?: string): string {
    const d = join(this.dir, name ?? `d${++this.dirSeq}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  config(mutate?: (c: Config) => void): Config {
    const c = baseConfig(this.env.rootfs);
    mutate?.(c);
    return c;
  }

  bundle(mutate?: (c: Config) => void): Bundle {
    return makeBundle(join(this.dir, `bundle${++this.dirSeq}`), this.config(mutate));
  }

  /** create (stdout/stderr of the container go to files in the bundle dir) */
  create(b: Bundle, id = this.id(), o: CreateOptions = {}): { id: string; res: Result; outFile: string; errFile: string } {
    const outFile = join(b.dir, `${id}.out`);
    const errFile = join(b.dir, `${id}.err`);
    writeFileSync(outFile, '');
    writeFileSync(errFile, '');
    const res = this.rt.create(id, b.dir, { stdoutFile: outFile, stderrFile: errFile, ...o });
    if (res.code === 0) this.track(id);
    return { id, res, outFile, errFile };
  }

  /** create + start + wait for `stopped` + parse the probe report */
  probe(mutate: (c: Config) => void, probeArgs: string[] = [], o: CreateOptions = {}): ProbeRun {
    const b = this.bundle((c) => {
      c.process.args = ['/bin/probe', 'report', ...probeArgs];
      mutate(c);
    });
    return this.probeBundle(b, o);
  }

  probeBundle(b: Bundle, o: CreateOptions = {}): ProbeRun {
    const { id, res, outFile } = this.create(b, undefined, o);
    if (res.code !== 0) this.abort(`create failed (exit ${res.code})`, (res.stderr || '').trim().slice(0, 800));
    const start = this.rt.start(id);
    if (start.code !== 0) this.abort(`start failed (exit ${start.code})`, start.stderr.trim().slice(0, 800));
    const st = this.rt.waitStatus(id, 'stopped');
    if (st !== 'stopped') this.abort(`container did not stop (status ${st})`);
    const out = readFileSync(outFile, 'utf8');
    const probe = parseProbe(out);
    if (!probe) this.abort('no probe report in the container output', out.slice(0, 800));
    return { id, create: res, start, out, probe, bundle: b };
  }

  /** create + start a long-running process (default: probe pause) */
  running(mutate: (c: Config) => void = () => {}, args = ['/bin/probe', 'pause']): { id: string; pid: number; bundle: Bundle; outFile: string } {
    const b = this.bundle((c) => {
      c.process.args = args;
      mutate(c);
    });
    const { id, res, outFile } = this.create(b);
    this.must(res, 'create');
    this.must(this.rt.start(id), 'start');
    const st = this.rt.state(id).state;
    const pid = typeof st?.pid === 'number' ? st.pid : 0;
    if (!pid) this.abort('state of a running container has no pid', st);
    return { id, pid, bundle: b, outFile };
  }

  /** wait until `file` contains `text` (bounded); returns the content */
  waitFile(file: string, text: string, timeoutMs = 5_000): string {
    const end = Date.now() + timeoutMs;
    for (;;) {
      let s = '';
      try {
        s = readFileSync(file, 'utf8');
      } catch {
        /* not yet */
      }
      if (s.includes(text) || Date.now() > end) return s;
      sleepMs(10);
    }
  }

  finish(): void {
    for (const fn of this.deferred.reverse()) {
      try {
        fn();
      } catch {
        /* best effort */
      }
    }
    for (const id of this.ids) this.rt.cleanup(id);
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      /* leave it for run.sh's final rm */
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parseProbe(out: string): Record<string, any> | undefined {
  const m = /@@PROBE@@([\s\S]*?)@@END@@/.exec(out);
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!);
  } catch {
    return undefined;
  }
}

function fmt(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 600 ? v.slice(0, 600) + '…' : v);
  return inspect(v, { depth: 4, breakLength: Infinity, maxArrayLength: 40, maxStringLength: 300 });
}

const memos = new Map<string, unknown>();
/** Compute once per run (e.g. one container observed by several tests); errors are remembered too. */
export function memo<V>(key: string, fn: () => V): V {
  if (memos.has(key)) {
    const v = memos.get(key) as { ok: boolean; v?: V; e?: unknown };
    if (!v.ok) throw v.e;
    return v.v as V;
  }
  try {
    const v = fn();
    memos.set(key, { ok: true, v });
    return v;
  } catch (e) {
    memos.set(key, { ok: false, e });
    throw e;
  }
}
