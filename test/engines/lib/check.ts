// Assertions on engine commands that, when they fail, show the command, its
// output, and what the runtime itself said (engines tend to shorten or hide it).
import { readFileSync, statSync } from 'node:fs';
import type { Test } from 'tap';
import { describeResult, type CmdResult } from './cmd.js';
import type { Runtime } from './setup.js';

/** Extra diagnostics for a failed assertion: the runtime's own errors, daemon log lines. */
export type Diagnostics = () => Record<string, unknown>;

export function expectExit(t: Test, r: CmdResult, code: number, what: string, diag: Diagnostics): boolean {
  const ok = !r.timedOut && r.signal === null && r.code === code;
  t.ok(ok, `${what}: exits ${code}`, ok ? {} : { ...describeResult(r), ...diag() });
  return ok;
}

export function expectOutput(t: Test, r: CmdResult, pattern: RegExp, what: string, diag: Diagnostics): boolean {
  const ok = pattern.test(r.stdout);
  t.ok(ok, `${what}: output matches ${pattern}`, ok ? {} : { ...describeResult(r), ...diag() });
  return ok;
}

/**
 * A runtime log file the engine makes the runtime write (`--log FILE
 * --log-format json`): remembers where a scenario started and returns the
 * runtime's messages written since.
 */
export class RuntimeLog {
  private offset = 0;
  constructor(readonly path: string) {}

  mark(): void {
    try {
      this.offset = statSync(this.path).size;
    } catch {
      this.offset = 0;
    }
  }

  /** The messages (warnings and errors) logged since mark(), as "level: msg" lines. */
  since(): string[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8').slice(this.offset);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const j = JSON.parse(line) as { level?: string; msg?: string };
        if (j.level === 'debug' || j.level === 'info') continue;
        out.push(`${j.level ?? '?'}: ${j.msg ?? line}`);
      } catch {
        out.push(line);
      }
    }
    return out;
  }
}

/**
 * The outcome of each scenario's runc run (the control, run first), added to
 * the diagnostics of the tsrun run of the same scenario.
 */
export class Controls {
  private readonly passed = new Map<string, boolean>();

  record(title: string, rt: Runtime, t: Test): void {
    if (rt.name === 'runc') this.passed.set(title, t.passing());
  }

  note(title: string, rt: Runtime): Record<string, string> {
    if (rt.name !== 'tsrun') return {};
    const p = this.passed.get(title);
    const control =
      p === undefined ? 'the runc control did not run' : p ? "runc passed this scenario: the failure is tsrun's" : 'runc failed this scenario too: suspect the setup';
    return { control };
  }
}
