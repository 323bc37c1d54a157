// A bundle is judged whole before anything is made: config.json's schema and semantic checks
// (load-config.ts, semantics.ts), then the checks that a fact of this host decides, one module
// each (proc-mount.ts, lsm-labels.ts, mount-sources.ts, memory-nodes.ts), and what the
// systemd cgroup driver needs (systemd-cgroup.ts). create, run and
// restore call judgeBundle(); exec judges its process with judgeProcess(). The plan builders
// (src/linux) take a judged config. The host is read only through HostFacts.
import { resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import type { HostFacts } from '../linux/host-facts.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { mountLabelProblem, processLabelProblem } from './lsm-labels.js';
import { memoryNodesProblem } from './memory-nodes.js';
import { mountSourceProblem } from './mount-sources.js';
import { procMountProblem } from './proc-mount.js';
import { systemdCgroupProblem, type CgroupDriver } from './systemd-cgroup.js';
import type { Process, Spec } from './types.js';

/** config.json of the bundle, judged whole; throws the first problem as one line. */
export function judgeBundle(bundleDir: string, host: HostFacts, options?: LoadConfigOptions & { id?: string; cgroupDriver?: CgroupDriver }): Spec {
  const bundle = resolve(bundleDir);
  const spec = loadConfig(bundle, options);
  refuse(hostProblem(spec, bundle, host));
  refuse(systemdCgroupProblem(spec, options?.id ?? '', options?.cgroupDriver));
  return spec;
}

/** The first problem of a schema- and semantics-checked config on this host (undefined: none). */
export function hostProblem(spec: Spec, bundle: string, host: HostFacts): string | undefined {
  return (
    procMountProblem(spec, bundle, host) ??
    mountLabelProblem(spec.linux?.mountLabel, host.lsm) ??
    mountSourceProblem(spec, bundle, host) ??
    memoryNodesProblem(spec) ??
    (spec.process ? processLabelProblem(spec.process, host.lsm) : undefined)
  );
}

/** An exec'd process (already through the schema and semantics, for --process FILE) on this host. */
export function judgeProcess(process: Process, host: Pick<HostFacts, 'lsm'>): void {
  refuse(processLabelProblem(process, host.lsm));
}

function refuse(problem: string | undefined): void {
  if (problem !== undefined) throw new TsrunError(problem);
}
