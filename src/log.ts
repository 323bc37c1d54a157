// The logger behind --log/--log-format/--debug. Lines are written synchronously (a command may
// exit right after logging): logrus text `time="…" level=… msg="…"` or JSON {"level","msg","time"}.
import { O_APPEND, O_CREAT, O_SYNC, O_WRONLY, sys, writeAll } from './sysfile.js';
import { TsrunError } from './errors.js';
import type { Logger, LogLevel } from './cli/context.js';

export interface LogOptions {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

export function formatLogLine(format: 'text' | 'json', level: LogLevel, msg: string, time = new Date()): string {
  const t = time.toISOString();
  if (format === 'json') return `${JSON.stringify({ level, msg, time: t })}\n`;
  return `time="${t}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

/** Opens (creating) a --log file for appending, synchronous writes (node's 'as'). */
export function openLog(file: string): number {
  return sys().open(file, O_WRONLY | O_APPEND | O_CREAT | O_SYNC, 0o644);
}

/**
 * With --log, the file is opened (created) here, at start-up, as runc does: a command that logs
 * nothing still leaves it behind, and a --log that cannot be opened fails the command.
 */
export function createLogger(o: LogOptions): Logger {
  const file = o.file && o.file !== '/dev/stderr' ? o.file : undefined;
  let fd = 2;
  if (file) {
    try {
      fd = openLog(file);
    } catch (e) {
      throw new TsrunError(`--log ${file}`, { cause: e });
    }
  }
  const write = (level: LogLevel, msg: string) => {
    try {
      writeAll(fd, formatLogLine(o.format, level, msg));
    } catch {
      // A log that cannot be written must not turn a working command into a failing one.
    }
  };
  return {
    debugEnabled: o.debug,
    toFile: file !== undefined,
    debug: (m) => { if (o.debug) write('debug', m); },
    info: (m) => write('info', m),
    warn: (m) => write('warning', m),
    error: (m) => write('error', m),
  };
}
