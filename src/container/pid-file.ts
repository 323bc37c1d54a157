// --pid-file, as runc writes it: a temporary file in the same directory, renamed over the
// target. The temporary file is created exclusively (O_EXCL: an existing file or a symlink
// planted under its name is never followed or overwritten) and rename replaces a symlink at the
// target itself, never the file it points to.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError, describeError } from '../errors.js';

export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    throw new TsrunError(`--pid-file ${file}: ${describeError(e)}`);
  }
  try {
    fs.writeSync(fd, String(pid));
    fs.fsyncSync(fd);
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
