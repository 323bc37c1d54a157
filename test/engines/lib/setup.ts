// What every engine test needs first: the packages and the image (setup.sh), the
// runtimes under test and the documented configuration snippets.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { cmd } from './cmd.js';

export const enginesDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(enginesDir, '..', '..');
export const configDir = join(enginesDir, 'config');

/** The path the documented snippets name; the tests put the runtime's real path there. */
export const DOC_TSRUN_PATH = '/usr/local/bin/tsrun';

export interface Runtime {
  /** "tsrun" (under test) or "runc" (the control). */
  name: 'tsrun' | 'runc';
  path: string;
}

export function runtimes(): Runtime[] {
  const tsrun = join(repoRoot, 'build', 'tsrun');
  if (!existsSync(tsrun)) throw new Error(`${tsrun} is missing: run \`make build\` first`);
  const runc = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => existsSync(p));
  if (!runc) throw new Error('runc is not installed (the control runtime): apt-get install runc');
  // The control first: the tsrun run of a scenario can then tell whether runc passed it.
  return [
    { name: 'runc', path: runc },
    { name: 'tsrun', path: tsrun },
  ];
}

export interface Prepared {
  /** setup.sh's work dir (podman storage, image archives). */
  work: string;
  image: string;
  ociArchive: string;
  dockerArchive: string;
}

/** Runs setup.sh for the engines named (installs them, builds the image). */
/** TSRUN_IMAGES_PREBUILT=1: setup.sh already ran (on the host of a QEMU guest, whose root overlay
 * podman's storage cannot use); only its work dir is read. */
export const imagesPrebuilt = (): string | undefined =>
  process.env.TSRUN_IMAGES_PREBUILT === '1' ? (process.env.TSRUN_ENGINES_DIR ?? '/var/tmp/tsrun-engines') : undefined;

export async function prepare(engines: string[]): Promise<Prepared> {
  let work = imagesPrebuilt();
  if (work === undefined) {
    const r = await cmd(['bash', join(enginesDir, 'setup.sh'), ...engines], { timeoutMs: 15 * 60_000 });
    if (r.code !== 0) throw new Error(`test/engines/setup.sh ${engines.join(' ')} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    work = r.stdout.trim().split('\n').pop() ?? '';
  }
  return {
    work,
    image: readFileSync(join(work, 'image', 'NAME'), 'utf8').trim(),
    ociArchive: join(work, 'image', 'oci.tar'),
    dockerArchive: join(work, 'image', 'docker.tar'),
  };
}

/**
 * runtimes() and prepare(engines), as a test file's first step: without them nothing can run,
 * so a failure fails the file at once. `also` runs inside the same guard.
 */
export async function setUpOrExit<T = undefined>(engines: string[], also?: () => T): Promise<{ prep: Prepared; rts: Runtime[]; tsrunPath: string; extra: T }> {
  try {
    const rts = runtimes();
    const prep = await prepare(engines);
    const extra = also?.() as T;
    return { prep, rts, tsrunPath: rts.find((r) => r.name === 'tsrun')!.path, extra };
  } catch (e) {
    t.fail(`setup: ${(e as Error).message}`);
    process.exit(1);
  }
}

/**
 * A documented snippet (test/engines/config/NAME, included verbatim in
 * docs/engines.md) with the documented tsrun path replaced by `tsrunPath`.
 */
export function snippet(name: string, tsrunPath: string): string {
  const text = readFileSync(join(configDir, name), 'utf8');
  if (!text.includes(DOC_TSRUN_PATH)) throw new Error(`${name} does not name ${DOC_TSRUN_PATH}`);
  return text.split(DOC_TSRUN_PATH).join(tsrunPath);
}

/** A unique, short name for this run's containers. */
let seq = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}${(++seq).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
