// The short commands (`lean` in the command table, and cli/hot.ts) do their file I/O through
// libc (sysfile-libc.ts) under bun: loading node:fs would cost them more than their own work.
import { useSysFile } from '../sysfile.js';

export async function useLibc(): Promise<void> {
  if (!(globalThis as { Bun?: unknown }).Bun) return;
  const { libcSysFile } = await import('../sysfile-libc.js');
  useSysFile(libcSysFile());
}
