// Polling for a condition the runtime reaches asynchronously (a killed process
// becoming stopped, a started process writing its first line). The deadline
// only bounds a hang; no test asserts how long anything took.
export async function waitUntil(cond: () => boolean, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<boolean> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
