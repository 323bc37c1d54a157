// What every command receives: the global flags, resolved, and the logger.

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/** Log lines go to --log (text or JSON lines, like runc's logrus) or, without --log, to stderr. */
export interface Logger {
  readonly debugEnabled: boolean;
  /** True when lines go to a --log file (not stderr). */
  readonly toFile: boolean;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface Ctx {
  /** --root: the state directory (default /run/tsrun; $XDG_RUNTIME_DIR/tsrun for non-root). */
  root: string;
  log: Logger;
  debug: boolean;
  systemdCgroup: boolean;
  rootless: boolean | 'auto';
  /** --criu: the criu binary for checkpoint and restore (default: criu, looked up in PATH). */
  criu?: string;
}
