// Reads the TAP the VM hands back (test/vm/guest/run.sh: `# Subtest: FILE`, the file's TAP indented
// by 4, then `ok N - FILE`): per file, its top-level tests with their failed assertions.
export interface InnerTest {
  name: string;
  ok: boolean;
  directive?: { kind: 'skip' | 'todo'; reason: string };
  /** tap's "# time=" of the test, as printed. */
  time?: string;
  /** The inner test's own failed assertions ("not ok" lines below it). */
  failures: string[];
  /** Its TAP block (subtest body and YAML), for the failure diagnostics. */
  block: string;
}

export interface InnerFile {
  name: string;
  ok?: boolean;
  /** tap's "# time=" of the file, as printed. */
  time?: string;
  tests: InnerTest[];
  /** The YAML of the file's own result (exit code, signal, timeout). */
  yaml: string;
  /** A file cut off before its result: the test it was in. */
  unfinished?: string;
}

export interface InnerRun {
  files: InnerFile[];
  bailOut?: string;
  comments: string[];
}

const RESULT = /^(not ok|ok) \d+(?: - (.*?))?(?: # (SKIP|TODO|skip|todo)\S*(?: (.*))?| # time=\S+)?$/;

/** Parses `tap --reporter=tap` output: files at indent 0, their tests at indent 4. */
export function parseInnerTap(text: string): InnerRun {
  const run: InnerRun = { files: [], comments: [] };
  const lines = text.split('\n');
  let file: InnerFile | undefined;
  let block: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const bail = /^\s*Bail out!\s*(.*)$/.exec(line);
    if (bail) {
      run.bailOut ??= bail[1] || 'Bail out!';
      continue;
    }
    if (line.startsWith('# Subtest: ')) {
      if (file) file.unfinished = block.filter((l) => l.startsWith('# Subtest: ')).pop()?.slice('# Subtest: '.length) ?? '(before its first test)';
      file = { name: line.slice('# Subtest: '.length), tests: [], yaml: '' };
      run.files.push(file);
      block = [];
      continue;
    }
    if (line.startsWith('# ')) {
      run.comments.push(line.slice(2));
      continue;
    }
    const top = RESULT.exec(line);
    if (top && file) {
      file.ok = top[1] === 'ok';
      file.time = / # time=(\S+)$/.exec(line)?.[1];
      const yaml: string[] = [];
      if (lines[i + 1] === '  ---') {
        for (i += 2; i < lines.length && lines[i] !== '  ...'; i++) yaml.push(lines[i]!.slice(2));
      }
      file.yaml = yaml.join('\n');
      file = undefined;
      continue;
    }
    if (!file) continue;
    if (!line.startsWith('    ')) {
      block.push(line);
      continue;
    }
    const inner = line.slice(4);
    const m = RESULT.exec(inner);
    if (!m) {
      block.push(inner);
      continue;
    }
    // The test's YAML follows its result line, indented by 6.
    const tail: string[] = [];
    if (lines[i + 1] === '      ---') {
      for (i += 1; i < lines.length; i++) {
        tail.push(lines[i]!.slice(4));
        if (lines[i] === '      ...') break;
      }
    }
    const body = [...block, inner, ...tail];
    const failures = failedAssertions(block);
    const kind = m[3]?.toLowerCase() as 'skip' | 'todo' | undefined;
    file.tests.push({
      name: m[2] ?? '(unnamed)',
      ok: m[1] === 'ok',
      directive: kind ? { kind, reason: m[4] ?? '' } : undefined,
      time: / # time=(\S+)$/.exec(inner)?.[1],
      failures,
      block: body.join('\n').trim(),
    });
    block = [];
  }
  if (file) {
    const open = block.filter((l) => l.startsWith('# Subtest: ')).pop();
    file.unfinished = open ? open.slice('# Subtest: '.length) : '(before its first test)';
  }
  return run;
}

/** "name (file:line)" of each failed assertion in a test's block (the location from its YAML). */
function failedAssertions(block: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < block.length; i++) {
    const m = /^(\s+)not ok \d+(?: - (.*?))?(?: # time=\S+)?$/.exec(block[i]!);
    if (!m) continue;
    let where = '';
    if (block[i + 1]?.trim() === '---') {
      let file = '';
      for (let j = i + 2; j < block.length && block[j]!.trim() !== '...'; j++) {
        const f = /^\s+fileName: (.*)$/.exec(block[j]!);
        const l = /^\s+lineNumber: (\d+)$/.exec(block[j]!);
        if (f && !file) file = f[1]!.replace(/^(\.\.\/)+/, '');
        if (l && file && !where) where = ` (${file}:${l[1]})`;
      }
    }
    out.push(`${m[2] ?? 'failed'}${where}`);
  }
  return out;
}
