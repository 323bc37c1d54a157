// The file descriptors create hands to tsrun-init: the exec fifo and the console socket.
import { TsrunError, describeError } from '../errors.js';
import type { Native } from '../shim/native.js';

export async function makeFifo(native: Native, file: string): Promise<void> {
  try {
    native.mkfifo(file, 0o600);
  } catch (e) {
    throw new TsrunError(`create the exec fifo ${file}: ${describeError(e)}`);
  }
}

/** Connects to --console-socket; tsrun-init sends the pty master over it. */
export async function connectConsoleSocket(native: Native, socketPath: string): Promise<number> {
  try {
    return native.connectUnix(socketPath);
  } catch (e) {
    throw new TsrunError(`connect to console socket ${socketPath}: ${describeError(e)}`);
  }
}
