// Small pieces checkpoint and restore share: directory fds for CRIU, feature checks, --status-fd.
import * as fs from 'node:fs';
import { TsrunError, describeError } from '../errors.js';
import { ReqType, type CriuFeatures } from './rpc.js';
import { criuCall, type SwrkOptions } from './swrk.js';

/** An O_RDONLY directory fd (not O_CLOEXEC-free: spawn clears that for the fds CRIU keeps), added to fds. */
export function openDirFd(dir: string, fds: number[]): number {
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (e) {
    throw new TsrunError(`open ${dir}: ${describeError(e)}`);
  }
  fds.push(fd);
  return fd;
}

/** Asks CRIU whether it has these features (runc's FEATURE_CHECK); refuses clearly when not. */
export async function checkFeatures(call: SwrkOptions, want: CriuFeatures, what: string): Promise<void> {
  const resp = await criuCall({ ...call, keepFds: [] }, { type: ReqType.FEATURE_CHECK, features: want });
  const have = resp.features ?? {};
  const missing = Object.entries(want).filter(([k, v]) => v && have[k as keyof CriuFeatures] !== true).map(([k]) => k);
  if (!resp.success || missing.length) {
    throw new TsrunError(`${what} is not supported by CRIU on this host (criu feature check: ${resp.success ? `no ${missing.join(', ')}` : 'failed'})`);
  }
}

const O_ACCMODE = 3;

/** --status-fd must be an open fd this process can write (runc's check). */
export function statusFdOk(fd: number): void {
  let info: string;
  try {
    info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch (e) {
    throw new TsrunError(`invalid --status-fd argument ${fd}: ${describeError(e)}`);
  }
  // fdinfo's flags are octal; the access mode is the low two bits (1: O_WRONLY, 2: O_RDWR).
  const mode = parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? '0', 8) & O_ACCMODE;
  if (mode !== 1 && mode !== 2) throw new TsrunError(`invalid --status-fd argument ${fd}: not writable`);
}
