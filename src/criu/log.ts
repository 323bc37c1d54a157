// What CRIU said went wrong: the Error lines of its log (runc quotes them too, as warnings).
import * as fs from 'node:fs';

/** The messages of a CRIU log's Error lines, without timestamp and source position; [] when none or unreadable. */
export function criuLogErrors(file: string, max = 4): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\([\d.]+\)\s+(?:\d+:\s+)?Error\s+\([^)]*\):\s*(.*)$/.exec(line) ?? /^.*\bError\b:?\s*(.*)$/.exec(line);
    const msg = m?.[1]?.trim();
    if (msg && !out.includes(msg)) out.push(msg);
  }
  return out.length > max ? [...out.slice(0, max - 1), `... ${out.length - max + 1} more`] : out;
}

/** "<what> failed: <CRIU's complaint> (log: <file>)", one line. */
export function criuFailureMessage(what: string, file: string, detail?: string): string {
  const said = criuLogErrors(file);
  const why = said.length ? said.join('; ') : detail ?? 'no error in its log';
  return `${what} failed: ${why} (criu log: ${file})`;
}
