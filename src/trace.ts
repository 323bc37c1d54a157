// TSRUN_TRACE=1: milliseconds since process start at named points, on stderr (for profiling).
const on = process.env.TSRUN_TRACE === '1';
const t0 = performance.timeOrigin;

export function trace(label: string): void {
  if (on) process.stderr.write(`tsrun-trace ${(performance.timeOrigin + performance.now() - t0).toFixed(2)} ms ${label}\n`);
}
