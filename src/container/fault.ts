// Fault injection for the robustness tests: TSRUN_FAULT=<command>:<step> makes tsrun SIGKILL
// itself when it reaches that step (e.g. `create:cgroup`), to prove that a runtime killed at any
// point leaves a state that `state` reports truthfully and `delete --force` cleans up.
// Steps (where `fault()` is called): FAULT_STEPS below. Without the variable, fault() is one
// cached comparison.

export const FAULT_STEPS = [
  'create:dir', // state directory made, nothing else
  'create:record', // state.json says "creating" (pid: the create process), cgroup named in it, not made yet
  'create:cgroup', // cgroup made
  'create:fifo', // exec fifo made
  'create:spawn', // tsrun-init spawned and in the cgroup, plan not sent
  'create:sync', // plan sent, the init waits at a SYNC (id maps or createRuntime hooks)
  'create:ready', // the init is ready (waits on the exec fifo), state not saved as created
  'create:saved', // state saved as created, pid file not written
  'start:lock', // start holds the container's lock
  'start:released', // the init is released (awake), status not saved as running
  'start:saved', // status saved as running, fifo not removed, poststart hooks not run
  'exec:spawn', // the exec'd tsrun-init spawned and in the cgroup, plan not sent
  'exec:ready', // the exec'd process runs, tsrun has not waited for it
  'delete:lock', // delete holds the lock, nothing done
  'delete:kill', // processes killed, cgroup still there
  'delete:cgroup', // cgroup removed, state still there
  'delete:state', // about to remove the state directory
] as const;

export type FaultStep = (typeof FAULT_STEPS)[number];

let wanted: string | null | undefined;

/** SIGKILLs this process if TSRUN_FAULT names `step`. */
export function fault(step: FaultStep): void {
  if (wanted === undefined) wanted = process.env.TSRUN_FAULT || null;
  if (wanted === step) process.kill(process.pid, 'SIGKILL');
}
