// The cgroup interface the lifecycle uses. Plain fs, no work at import.
export type { CgroupHandle, CgroupMode } from './paths.js';
export { detectMode, resolveCgroup } from './paths.js';
export type { CgroupEntry } from './manage.js';
export { createCgroup, preexisting, addProcess, openEntry, destroyCgroup, freeze, thaw, isFrozen, pids, oomEvents } from './manage.js';
export { applyResources, checkResourcesForMode } from './resources.js';
export type { RuncStats } from './stats.js';
export { stats, statsToJSON } from './stats.js';
export { CgroupError, setWarningHandler } from './fs.js';
export { startScope, updateScope, userManagerCgroup } from './systemd/scope.js';
