// The logger behind --log/--log-format/--debug. Lines are written synchronously (a command may
// exit right after logging): logrus text `time="…" level=… msg="…"` or JSON {"level","msg","time"}.
import { fs } from './io.js';
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

export function createLogger(o: LogOptions): Logger {
  const file = o.file && o.file !== '/dev/stderr' ? o.file : undefined;
  let fd = -1;
  const write = (level: LogLevel, msg: string) => {
    try {
      if (!file) {
        fs.writeSync(2, formatLogLine(o.format, level, msg));
        return;
      }
      if (fd < 0) fd = fs.openSync(file, 'a', 0o644);
      fs.writeSync(fd, formatLogLine(o.format, level, msg));
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
