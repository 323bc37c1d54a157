// --pid-file, as runc writes it: a temporary file in the same directory, renamed over the
// target. The temporary file is created exclusively (O_EXCL: an existing file or a symlink
// planted under its name is never followed or overwritten) and rename replaces a symlink at the
// target itself, never the file it points to.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError, describeError } from '../errors.js';

// Web Crypto, a global: node:crypto would cost bun about 2 ms to load.
const randomHex = (): string => Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');

export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${randomHex()}`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    throw new TsrunError(`--pid-file ${file}: ${describeError(e)}`);
  }
  try {
    // No fsync, like runc: the file names a process, which a crash ends anyway.
    fs.writeSync(fd, String(pid));
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new TsrunError(`--pid-file ${file}: ${describeError(e)}`);
  }
}
