// The host side of a QEMU lane (test/vm/suite.sh): boots the guest, runs test files in it, and
// makes each inner test one subtest here, failing with the inner failures. A VM that does not boot,
// times out or reports nothing is a failure with the reason, never a pass.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { parseInnerTap } from './inner-tap.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface LaneOptions {
  /** Extra environment for suite.sh / run-in-vm.sh (VM_INIT=systemd, ...). */
  env?: NodeJS.ProcessEnv;
  /** The files to run in the guest; suite.sh's default list when absent. */
  files?: string[];
  /** run-in-vm.sh's hard limit, in seconds. */
  vmTimeoutS: number;
}

/** Runs a host-side script of the lane (suite.sh, run-in-vm.sh) to its end, killed at the test's teardown. */
export function runScript(t: Test, script: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(here, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', (e) => resolve({ status: null, signal: null, stdout, stderr: `${stderr}\nspawn bash: ${e.message}` }));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
  });
}

const clip = (s: string, n = 6000): string => (s.length > n ? `…${s.slice(-n)}` : s);

export async function vmLane(t: Test, o: LaneOptions): Promise<void> {
  const r = await runScript(t, 'suite.sh', o.files ?? [], { ...o.env, VM_TIMEOUT: String(o.vmTimeoutS) });
  // run-in-vm.sh / setup.sh / suite.sh say on stderr why the VM did not run the suites.
  const reasons = r.stderr.split('\n').filter((l) => /^(run-in-vm|vm-setup|vm-suite): /.test(l));
  const summary = reasons.find((l) => / booted in /.test(l));
  if (summary) t.comment(summary);
  const inner = parseInnerTap(r.stdout);
  for (const c of inner.comments.filter((c) => c.startsWith('vm: '))) t.comment(c);

  if (inner.files.length === 0) {
    t.fail(`the VM ran no test file (exit status ${r.status ?? r.signal}): ${inner.bailOut ?? reasons.filter((l) => l !== summary).join(' | ') ?? 'no reason given'}`, {
      stderr: clip(r.stderr),
      stdout: clip(r.stdout),
    });
    return;
  }
  if (inner.bailOut) t.fail(`inner bail out: ${inner.bailOut}`);
  for (const f of inner.files) {
    if (f.time) t.comment(`${f.name}: ${f.time} in the VM`);
    await t.test(f.name, async (t) => {
      for (const it of f.tests) {
        if (it.directive) {
          t.test(it.name, { [it.directive.kind]: it.directive.reason || true }, async () => {});
          continue;
        }
        t.test(it.name, async (t) => {
          if (it.ok) t.pass(`passed in the VM${it.time ? ` (${it.time})` : ''}`);
          else t.fail(it.failures.length ? it.failures.join('; ') : 'failed in the VM', { inner: clip(it.block) });
        });
      }
      if (f.ok === undefined) {
        t.fail(`the file did not finish in the VM (timeout or crash), in the test: ${f.unfinished}`, { stderr: clip(r.stderr, 3000) });
      } else if (!f.ok && f.tests.every((x) => x.ok)) {
        t.fail('the file failed in the VM outside any test', { yaml: clip(f.yaml) });
      }
      if (f.tests.length === 0 && f.ok) t.fail('the file ran no test in the VM');
    });
  }
  const failedTests = inner.files.some((f) => !f.ok || f.tests.some((x) => !x.ok && !x.directive));
  if (r.status !== 0 && !failedTests) {
    t.fail(`the VM run exited with ${r.status ?? r.signal} though every test passed: ${reasons.filter((l) => l !== summary).join(' | ')}`);
  }
}
