// `make runc-compat-systemd`: runc's integration suite (../shared/runc-integration) against tsrun and
// Debian's runc in the systemd guest (systemd PID 1, pure cgroup v2; test/vm/README.md), with the
// systemd cgroup driver (RUNC_USE_SYSTEMD=1) and without it, the bats files given (default: the
// ones where the cgroup driver matters; the whole suite takes hours under TCG). Writes each run's
// TAP to build/runc-compat-systemd/ and the tables to docs/runc-compat-systemd.md.
//   bun scripts/runc-compat-guest.ts [--modes "systemd cgroupfs"] [FILE.bats ...]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseBatsTap, renderTable } from '../test/runc-compat/outcomes.js';

const repo = resolve(import.meta.dirname, '..');
const DEFAULT_FILES = ['cgroups.bats', 'update.bats', 'events.bats', 'pause.bats', 'delete.bats', 'ps.bats', 'kill.bats', 'cgroup_delegation.bats', 'dev.bats', 'run.bats'];
const args = process.argv.slice(2);
let modes = 'systemd cgroupfs';
const mi = args.indexOf('--modes');
if (mi >= 0) {
  modes = args[mi + 1] ?? modes;
  args.splice(mi, 2);
}
const files = args.length ? args : DEFAULT_FILES;
const out = join(repo, 'build', 'runc-compat-systemd');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// A snapshot: the guest reads the host's files lazily, a rebuild meanwhile would break the run.
const tsrun = join(out, 'tsrun');
copyFileSync(join(repo, 'build', 'tsrun'), tsrun);
const started = Date.now();
const r = spawnSync('bash', [join(repo, 'test/vm/run-in-vm.sh'), 'bash', join(repo, 'test/runc-compat/guest-suite.sh'), tsrun, modes, ...files], {
  cwd: repo,
  encoding: 'utf8',
  maxBuffer: 1 << 28,
  env: { ...process.env, VM_INIT: 'systemd', VM_TIMEOUT: process.env.VM_TIMEOUT ?? '7200' },
});
writeFileSync(join(out, 'guest.out'), r.stdout);
process.stderr.write(r.stderr);
const runs = new Map<string, string>();
const times = new Map<string, string>();
let current: string | undefined;
let buf: string[] = [];
for (const line of r.stdout.split('\n')) {
  const m = /^### runc-compat (\S+) (\S+) (begin|end)(?: (\d+) (\S+))?/.exec(line);
  if (m) {
    if (m[3] === 'begin') {
      current = `${m[1]} ${m[2]}`;
      buf = [];
    } else if (current) {
      runs.set(current, buf.join('\n'));
      times.set(current, m[5] ?? '?');
      writeFileSync(join(out, `${m[1]}-${m[2]}.tap`), buf.join('\n'));
      current = undefined;
    }
    continue;
  }
  if (current) buf.push(line);
}
const commit = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: repo, encoding: 'utf8' }).stdout.trim();
const doc: string[] = [
  "# runc's integration suite in the systemd guest: tsrun against runc",
  '',
  "runc's own bats tests (v1.1.15, `../shared/runc-integration`) run by `make runc-compat-systemd`",
  '(scripts/runc-compat-guest.ts) in the QEMU guest booted with systemd 252 as PID 1 on a pure cgroup v2',
  "hierarchy (Debian's kernel, TCG, 2 vCPUs; test/vm/README.md), against tsrun and Debian's runc 1.1.5,",
  `at commit \`${commit}\`, ${new Date().toISOString().slice(0, 10)}, ${Math.round((Date.now() - started) / 60000)} min in all.`,
  `Files: ${files.join(', ')} (the ones where the cgroup driver matters: under TCG the whole suite takes`,
  'about 45 minutes per runtime and mode; the rest of the suite runs on the host, docs/runc-compat.md).',
  '',
];
for (const mode of modes.split(' ')) {
  const ts = runs.get(`${mode} tsrun`);
  const rc = runs.get(`${mode} runc`);
  doc.push(`## ${mode === 'systemd' ? 'With the systemd cgroup driver (RUNC_USE_SYSTEMD=1)' : 'cgroupfs driver on pure cgroup v2'}`, '');
  if (ts === undefined || rc === undefined) {
    doc.push(`Not run to the end (guest exit status ${r.status}).`, '');
    continue;
  }
  doc.push(`tsrun ${times.get(`${mode} tsrun`)}, runc ${times.get(`${mode} runc`)} in the guest.`, '');
  doc.push(renderTable(parseBatsTap(ts), parseBatsTap(rc), new Map()));
}
writeFileSync(join(repo, 'docs', 'runc-compat-systemd.md'), `${doc.join('\n')}\n`);
console.log(`wrote docs/runc-compat-systemd.md and ${out}/*.tap (guest exit status ${r.status})`);
process.exit(r.status === 0 || runs.size > 0 ? 0 : 1);
