import { TsrunError } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { exec, type ExecOptions } from '../../container/exec.js';

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function execOptions(args: ParsedArgs): ExecOptions {
  const f = args.flags;
  const process = str(f.process);
  const cmd = args._.slice(1);
  if (!process && cmd.length === 0) throw new TsrunError('exec args cannot be empty');
  const additionalGids = strs(f['additional-gids']).map((g) => {
    if (!/^\d+$/.test(g)) throw new TsrunError(`invalid additional gid "${g}"`);
    return Number(g);
  });
  const preserveFds = f['preserve-fds'] as number;
  if (preserveFds < 0) throw new TsrunError('--preserve-fds must not be negative');
  return {
    id: args._[0]!,
    process,
    args: cmd,
    env: strs(f.env),
    cwd: str(f.cwd),
    user: str(f.user),
    additionalGids,
    tty: f.tty === true,
    detach: f.detach === true,
    pidFile: str(f['pid-file']),
    consoleSocket: str(f['console-socket']),
    preserveFds,
    caps: strs(f.cap),
    noNewPrivs: f['no-new-privs'] === true ? true : undefined,
    apparmor: str(f.apparmor),
    processLabel: str(f['process-label']),
    ignorePaused: f['ignore-paused'] === true,
    cgroup: strs(f.cgroup),
  };
}

// runc: once the command line is parsed, an exec that could not be done exits 255 ("exec failed:
// …"), so it cannot be mistaken for the status of a process that ran.
export default async function execCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  try {
    return await exec(ctx, execOptions(args));
  } catch (e) {
    throw new TsrunError('exec failed', { cause: e, exitStatus: 255 });
  }
}
