// The bench's own memory cgroup for the batches: the runtime processes run in
// it (bench-exec -c) and the containers' cgroups are made under it
// (linux.cgroupsPath /NAME/ID), so its peak usage is the memory the batch took
// — runtimes, waiting processes and the kernel memory charged for them — and
// nothing else running on the machine.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function read(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

export class BenchCgroup {
  readonly name: string;
  readonly dir: string;
  readonly v2: boolean;
  private constructor(name: string, dir: string, v2: boolean) {
    this.name = name;
    this.dir = dir;
    this.v2 = v2;
  }

  /** Makes /NAME in the memory hierarchy (v1) or in the unified one (v2); undefined if neither works. */
  static make(name: string): BenchCgroup | undefined {
    const v1 = '/sys/fs/cgroup/memory';
    try {
      if (existsSync(join(v1, 'memory.usage_in_bytes')) || existsSync(join(v1, 'cgroup.procs'))) {
        const dir = join(v1, name);
        mkdirSync(dir, { recursive: true });
        return new BenchCgroup(name, dir, false);
      }
      const ctl = read('/sys/fs/cgroup/cgroup.subtree_control') ?? '';
      if (!ctl.split(/\s+/).includes('memory')) writeFileSync('/sys/fs/cgroup/cgroup.subtree_control', '+memory');
      const dir = join('/sys/fs/cgroup', name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory');
      return new BenchCgroup(name, dir, true);
    } catch {
      return undefined;
    }
  }

  get procs(): string {
    return join(this.dir, 'cgroup.procs');
  }

  /** Bytes charged now. */
  usage(): number {
    return Number((read(join(this.dir, this.v2 ? 'memory.current' : 'memory.usage_in_bytes')) ?? 'NaN').trim());
  }

  /** Restarts the peak from the current usage. */
  resetPeak(): void {
    try {
      writeFileSync(join(this.dir, this.v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'), this.v2 ? 'reset' : '0');
    } catch {
      // older v2 kernels cannot reset memory.peak: the peak then covers the cgroup's life
    }
  }

  /** Highest usage since the last reset, bytes. */
  peak(): number {
    return Number((read(join(this.dir, this.v2 ? 'memory.peak' : 'memory.max_usage_in_bytes')) ?? 'NaN').trim());
  }

  /** Removes /NAME (and whatever the runtimes left under it) from every hierarchy. */
  remove(): void {
    const rm = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
      try {
        rmdirSync(d);
      } catch {
        // still busy: reported as a leftover by the batch
      }
    };
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const d = join('/sys/fs/cgroup', h, this.name);
      if (existsSync(d)) rm(d);
    }
    if (existsSync(join('/sys/fs/cgroup', this.name))) rm(join('/sys/fs/cgroup', this.name));
  }
}
