// systemd's manager over D-Bus (org.freedesktop.systemd1): transient units for containers,
// their properties, and their removal, each job awaited with a bound (runc waits 30 s).
import { BusError, openBus, type Bus } from '../../native/sd-bus.js';
import { CgroupError } from '../fs.js';
import type { UnitProperty } from './properties.js';

const SYSTEMD = 'org.freedesktop.systemd1';
const PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const PROPERTIES = 'org.freedesktop.DBus.Properties';

/** How long a start or stop job may take: TSRUN_SYSTEMD_TIMEOUT seconds, default 30 (runc). */
export function jobTimeoutMs(): number {
  const s = Number(process.env.TSRUN_SYSTEMD_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30000;
}

export class Systemd {
  private versionCache: number | undefined;

  private constructor(private readonly bus: Bus) {}

  /** The system instance, or (rootless) the user's own, over the session bus. */
  static connect(user: boolean): Systemd {
    const instance = user ? "systemd's user instance" : 'systemd';
    let bus: Bus;
    try {
      bus = openBus(user);
    } catch (e) {
      throw new CgroupError(`systemd cgroup driver: cannot reach ${instance}: ${(e as Error).message}`);
    }
    const sd = new Systemd(bus);
    try {
      sd.version();
    } catch (e) {
      bus.close();
      throw new CgroupError(`systemd cgroup driver: ${instance} does not answer on the bus: ${(e as Error).message}`);
    }
    return sd;
  }

  close(): void {
    this.bus.close();
  }

  private call(member: string, sig: string, args: readonly unknown[], replySig = ''): unknown[] {
    return this.bus.call(SYSTEMD, PATH, MANAGER, member, sig, args, replySig);
  }

  private managerProperty(name: string): unknown {
    const [v] = this.bus.call(SYSTEMD, PATH, PROPERTIES, 'Get', 'ss', [MANAGER, name], 'v') as [{ value: unknown }];
    return v.value;
  }

  /** The numeric version ("252.39-1~deb12u2" -> 252); properties depend on it as in runc. */
  version(): number {
    if (this.versionCache === undefined) {
      const m = /^"?v?(\d+)/.exec(String(this.managerProperty('Version')));
      this.versionCache = m ? Number(m[1]) : 0;
    }
    return this.versionCache;
  }

  /** The manager's own cgroup (the user instance's: /user.slice/user-1000.slice/user@1000.service). */
  controlGroup(): string {
    return String(this.managerProperty('ControlGroup'));
  }

  /**
   * StartTransientUnit and wait for its job. Like runc: a unit of that name that exists is reset
   * (a failed leftover goes away) and the start tried once more; a job that does not end in
   * "done" within the bound leaves nothing behind and is an error.
   */
  startUnit(unit: string, properties: readonly UnitProperty[]): void {
    const args = [unit, 'replace', properties.map((p) => [p.name, { sig: p.sig, value: p.value }]), []];
    this.watchJobs();
    let job: string;
    try {
      [job] = this.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', args, 'o') as [string];
    } catch (e) {
      if (!(e instanceof BusError) || !e.busName?.endsWith('.UnitExists')) throw this.fail(`start unit ${unit}`, e);
      this.resetFailed(unit);
      try {
        [job] = this.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', args, 'o') as [string];
      } catch (e2) {
        throw this.fail(`start unit ${unit}`, e2, e2 instanceof BusError && e2.busName?.endsWith('.UnitExists') ? ' (the unit name is in use)' : '');
      }
    }
    let result: string;
    try {
      result = this.awaitJob(job, `start unit ${unit}`);
    } catch (e) {
      this.removeQuietly(unit);
      throw e;
    }
    if (result !== 'done') {
      this.removeQuietly(unit);
      throw new CgroupError(`systemd cgroup driver: start unit ${unit}: the job ended "${result}"${this.unitResult(unit)}`);
    }
  }

  /** StopUnit, awaited; then ResetFailedUnit so that a failed unit goes away too. A unit that is gone already is fine. */
  stopUnit(unit: string): void {
    this.watchJobs();
    let job: string | undefined;
    try {
      [job] = this.call('StopUnit', 'ss', [unit, 'replace'], 'o') as [string];
    } catch (e) {
      if (!(e instanceof BusError) || !e.busName?.endsWith('.NoSuchUnit')) throw this.fail(`stop unit ${unit}`, e);
    }
    if (job) this.awaitJob(job, `stop unit ${unit}`);
    this.resetFailed(unit);
  }

  /** SetUnitProperties (runtime: not written to /etc), as `update` does with runc. */
  setProperties(unit: string, properties: readonly UnitProperty[]): void {
    if (properties.length === 0) return;
    try {
      this.call('SetUnitProperties', 'sba(sv)', [unit, true, properties.map((p) => [p.name, { sig: p.sig, value: p.value }])]);
    } catch (e) {
      throw this.fail(`set the properties of unit ${unit}`, e);
    }
  }

  private resetFailed(unit: string): void {
    try {
      this.call('ResetFailedUnit', 's', [unit]);
    } catch {
      // not failed, or gone: nothing to reset
    }
  }

  /** After a failed start: stop what may have started and let systemd forget the unit. */
  private removeQuietly(unit: string): void {
    try {
      this.stopUnit(unit);
    } catch {
      this.resetFailed(unit);
    }
  }

  private unitResult(unit: string): string {
    try {
      const [path] = this.call('GetUnit', 's', [unit], 'o') as [string];
      const iface = unit.endsWith('.slice') ? 'org.freedesktop.systemd1.Slice' : 'org.freedesktop.systemd1.Scope';
      const [v] = this.bus.call(SYSTEMD, path, PROPERTIES, 'Get', 'ss', [iface, 'Result'], 'v') as [{ value: unknown }];
      return ` (unit result "${String(v.value)}")`;
    } catch {
      return '';
    }
  }

  private jobsWatched = false;

  /** Ask the bus for systemd's JobRemoved signals (sent to the client that queued the job). */
  private watchJobs(): void {
    if (this.jobsWatched) return;
    const rule = `type='signal',sender='${SYSTEMD}',path='${PATH}',interface='${MANAGER}',member='JobRemoved'`;
    this.bus.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [rule]);
    this.jobsWatched = true;
  }

  /** Waits for JobRemoved of `job`; its result ("done", "failed", "dependency", "canceled", ...). */
  private awaitJob(job: string, what: string): string {
    const bound = jobTimeoutMs();
    const deadline = Date.now() + bound;
    for (;;) {
      const left = deadline - Date.now();
      const sig = left > 0 ? this.bus.nextSignal(left) : undefined;
      if (!sig) {
        this.cancelJob(job);
        throw new CgroupError(`systemd cgroup driver: ${what}: the job did not finish within ${bound / 1000} s (TSRUN_SYSTEMD_TIMEOUT)`);
      }
      if (sig.member !== 'JobRemoved' || sig.iface !== MANAGER) continue;
      const [, path, , result] = sig.read('uoss') as [number, string, string, string];
      if (path === job) return result;
    }
  }

  private cancelJob(job: string): void {
    try {
      this.bus.call(SYSTEMD, job, 'org.freedesktop.systemd1.Job', 'Cancel', '', []);
    } catch {
      // finished meanwhile
    }
  }

  private fail(what: string, e: unknown, extra = ''): CgroupError {
    return new CgroupError(`systemd cgroup driver: ${what}: ${(e as Error).message}${extra}`);
  }
}
