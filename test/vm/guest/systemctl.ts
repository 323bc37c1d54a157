// What the systemd guest's tests ask systemd, through systemctl (independent of tsrun's D-Bus client).
import { spawnSync } from 'node:child_process';

export function systemctl(...args: string[]): string {
  const r = spawnSync('systemctl', args, { encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout}${r.stderr}`.trim();
}

/** `systemctl show UNIT -p A -p B` as a map. */
export function show(unit: string, ...props: string[]): Record<string, string> {
  const out = systemctl('show', unit, ...props.flatMap((p) => ['-p', p]));
  return Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** The names of every unit systemd knows (loaded, active or failed) that mention s. */
export function unitsNamed(s: string): string[] {
  return systemctl('list-units', '--all', '--no-legend', '--plain')
    .split('\n')
    .filter((l) => l.includes(s))
    .map((l) => l.trim().split(/\s+/)[0]!);
}
