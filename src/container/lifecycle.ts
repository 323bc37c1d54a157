// The lifecycle in one place: which status each command accepts, runc's words when it does not,
// and the status that follows. Commands ask here; none compares status strings itself.
import { TsrunError } from '../errors.js';
import type { Status } from '../spec/types.js';

export type LifecycleCommand = 'start' | 'exec' | 'kill' | 'kill --all' | 'pause' | 'resume' | 'update' | 'events' | 'delete';

interface Rule {
  /** Statuses the command works on. */
  accepts: readonly Status[];
  /** The refusal for a status it does not accept (runc's wording); `other` for the rest. */
  refusal: Partial<Record<Status | 'other', string>>;
}

const RULES: Record<LifecycleCommand, Rule> = {
  start: {
    accepts: ['created'],
    refusal: { stopped: 'cannot start a container that has stopped', other: 'cannot start an already {status} container' },
  },
  exec: {
    accepts: ['created', 'running', 'paused'],
    refusal: { stopped: 'cannot exec in a stopped container' },
  },
  kill: { accepts: ['created', 'running', 'paused'], refusal: { other: 'container not running' } },
  // runc: --all of a stopped container succeeds (what its init left in the cgroup is signalled).
  'kill --all': { accepts: ['created', 'running', 'paused', 'stopped'], refusal: {} },
  pause: { accepts: ['created', 'running'], refusal: { other: 'container not running' } },
  resume: { accepts: ['paused'], refusal: { other: 'container not paused' } },
  update: { accepts: ['created', 'running', 'paused'], refusal: { other: 'container not running' } },
  events: { accepts: ['created', 'running', 'paused'], refusal: { other: 'container not running' } },
  // runtime.md: deleting a container that is not stopped must fail (created included, unlike runc);
  // --force kills it first.
  delete: { accepts: ['stopped'], refusal: { other: 'cannot delete container {id} that is not stopped: {status}' } },
};

/** Whether `command` works on a container in `status`. */
export function accepts(command: LifecycleCommand, status: Status): boolean {
  return RULES[command].accepts.includes(status);
}

/** Throws the command's refusal (one line, runc's words) unless it works on `status`. */
export function requireStatus(command: LifecycleCommand, status: Status, id = ''): void {
  if (accepts(command, status)) return;
  const rule = RULES[command];
  const text = rule.refusal[status] ?? rule.refusal.other ?? `cannot ${command} a ${status} container`;
  throw new TsrunError(text.replace('{status}', status).replace('{id}', id));
}

/** exec into a paused container needs --ignore-paused (runc). */
export function requireExecutable(status: Status, ignorePaused: boolean): void {
  requireStatus('exec', status);
  if (status === 'paused' && !ignorePaused) throw new TsrunError('cannot exec in a paused container (use --ignore-paused to override)');
}

/** The status after a successful pause or resume (a container paused before `start` is still created). */
export function statusAfter(command: 'pause' | 'resume', hasExecFifo: boolean): 'paused' | 'created' | 'running' {
  if (command === 'pause') return 'paused';
  return hasExecFifo ? 'created' : 'running';
}
