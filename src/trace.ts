// TSRUN_TRACE=1: milliseconds since process start at named points, on stderr (for profiling).
// Written with write(2): process.stderr would build the stream machinery (several ms) and skew
// the very timings it prints.
import { writeAllSync } from './io.js';

const on = process.env.TSRUN_TRACE === '1';

export function trace(label: string): void {
  if (on) writeAllSync(2, `tsrun-trace ${performance.now().toFixed(2)} ms ${label}\n`);
}
