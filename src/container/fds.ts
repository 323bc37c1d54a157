// The file descriptors create hands to tsrun-init: the exec fifo and the console socket.
import * as fs from 'node:fs';
import { TsrunError, describeError } from '../errors.js';
import type { Native } from '../native/native.js';

export async function makeFifo(native: Native, file: string): Promise<void> {
  try {
    native.mkfifo(file, 0o600);
    // tsrun-init opens it for writing after it became the container's user (through its O_PATH
    // fd, which needs no access to the 0700 state directory): like runc, writable by anyone.
    fs.chmodSync(file, 0o622);
  } catch (e) {
    throw new TsrunError(`create the exec fifo ${file}: ${describeError(e)}`);
  }
}

/** Connects to --console-socket; tsrun-init sends the pty master over it. */
export async function connectConsoleSocket(native: Native, socketPath: string): Promise<number> {
  return connectUnixOrFail(native, socketPath, 'console socket');
}

/** Connects to linux.seccomp.listenerPath (runc's wording when the agent is not there). */
export async function connectSeccompAgent(native: Native, socketPath: string): Promise<number> {
  try {
    return native.connectUnix(socketPath);
  } catch (e) {
    throw new TsrunError(`failed to connect with seccomp agent specified in the seccomp profile: ${describeError(e)}`);
  }
}

export async function connectUnixOrFail(native: Native, socketPath: string, what: string): Promise<number> {
  try {
    return native.connectUnix(socketPath);
  } catch (e) {
    throw new TsrunError(`connect to ${what} ${socketPath}: ${describeError(e)}`);
  }
}
