// By-hand use: `tsrun --help` / `tsrun <command> --help` against runc's, the man pages and the
// shell completion scripts generated from the command table, and `tsrun --version`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { GLOBAL_FLAGS } from '../../src/cli/globals.js';
import { HELP } from '../../src/cli/help-text.js';
import { COMMANDS } from '../../src/cli/table.js';
import { libseccompFromFileName } from '../../src/cli/version.js';
import { loadLibSeccomp } from '../../src/native/libseccomp.js';
import { BUN, REPO, record, spawnSleep, tempDir, tsrun, writeRecord } from './fixtures/support.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 60_000 });

/** The flag names (`--bundle`, `-b`) of the OPTIONS section of a runc/tsrun help text. */
function optionNames(help: string, section = /^(?:OPTIONS|GLOBAL OPTIONS):$/m): string[] {
  const at = help.search(section);
  if (at < 0) return [];
  const names: string[] = [];
  for (const line of help.slice(at).split('\n').slice(1)) {
    const m = /^ {3}(--[a-z0-9-]+)(?: value)?(?:, (-[a-z]))?/.exec(line);
    if (m) names.push(...m.slice(1).filter((x): x is string => !!x));
    else if (/^[A-Z ]+:$/.test(line)) break;
  }
  return names;
}

function commandNames(help: string): string[] {
  const at = help.indexOf('\nCOMMANDS:\n');
  const block = help.slice(at + 11).split('\n\n')[0]!;
  return block.split('\n').map((l) => l.trim().split(/\s+/)[0]!.replace(/,$/, ''));
}

t.test('tsrun --help and <command> --help cover every command and flag of runc', { skip: !have('runc') && 'runc is not installed' }, async (t) => {
  const runcTop = run('runc', ['--help']).stdout;
  const top = tsrun(['--help']);
  t.equal(top.status, 0);
  t.same(commandNames(top.stdout).sort(), commandNames(runcTop).sort(), 'the same commands');
  t.same(optionNames(top.stdout).sort(), optionNames(runcTop).sort(), 'the same global options');
  for (const cmd of commandNames(runcTop).filter((c) => c !== 'help')) {
    const theirs = run('runc', [cmd, '--help']).stdout;
    const ours = tsrun([cmd, '--help']);
    t.equal(ours.status, 0, `${cmd} --help`);
    t.match(ours.stdout, new RegExp(`^NAME:\\n   tsrun ${cmd} - \\S`), `${cmd}: NAME`);
    t.match(ours.stdout, /\nUSAGE:\n   tsrun /, `${cmd}: USAGE`);
    t.match(ours.stdout, /\nDESCRIPTION:\n   \S/, `${cmd}: DESCRIPTION`);
    t.same(optionNames(ours.stdout).sort(), optionNames(theirs).sort(), `${cmd}: runc's options`);
    // runc's examples and long descriptions have a counterpart
    if (/EXAMPLE/.test(theirs)) t.match(ours.stdout, /\nEXAMPLE:\n/, `${cmd}: has an example like runc`);
  }
});

t.test('every flag has a description, shown in its command help', async (t) => {
  for (const f of GLOBAL_FLAGS) t.ok(f.desc.length > 8, `global --${f.name} is described`);
  for (const def of COMMANDS.values()) {
    const help = tsrun([def.name, '--help']).stdout;
    t.ok(HELP[def.name]?.description, `${def.name} has a long description`);
    for (const f of def.flags) {
      t.ok(f.desc.length > 8, `${def.name} --${f.name} is described`);
      const line = help.split('\n').find((l) => l.startsWith(`   --${f.name}${f.type === 'boolean' ? '' : ' value'}${f.alias ? `, -${f.alias}` : ''}`));
      t.ok(line?.includes(f.desc), `${def.name} --help shows --${f.name} with its description`);
      if (f.default !== undefined && f.type !== 'boolean') t.match(line, `(default: `, `${def.name} --${f.name}: default shown`);
    }
    t.equal(tsrun(['help', def.name]).stdout, help, `tsrun help ${def.name} = tsrun ${def.name} --help`);
  }
  const ckpt = tsrun(['checkpoint', '-h']);
  t.equal(ckpt.status, 0, 'checkpoint -h shows help');
  t.match(ckpt.stdout, /^NAME:\n   tsrun checkpoint/);
});

t.test('--version: runc\'s shape, with the real libseccomp version', async (t) => {
  const r = tsrun(['--version']);
  t.equal(r.status, 0);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines.length, 5);
  t.equal(lines[0], `tsrun version ${JSON.parse(fs.readFileSync(join(REPO, 'package.json'), 'utf8')).version}`);
  t.match(lines[1], /^commit: \S+$/);
  t.equal(lines[2], 'spec: 1.3.0');
  t.match(lines[3], /^bun: \d+\.\d+\.\d+/);
  const real = (await loadLibSeccomp()).version; // libseccomp's own seccomp_version()
  t.match(real, /^\d+\.\d+\.\d+$/);
  t.equal(lines[4], `libseccomp: ${real}`, 'the version libseccomp itself reports');
  t.match(tsrun(['--help']).stdout, `VERSION:\n   ${lines[0]!.replace('tsrun version ', '')}\n   ${lines.slice(1).join('\n   ')}\n`, 'also in --help');

  const dir = tempDir(t);
  fs.symlinkSync('libseccomp.so.2.9.1', join(dir, 'libseccomp.so.2'));
  fs.writeFileSync(join(dir, 'libseccomp.so.2.9.1'), '');
  t.equal(libseccompFromFileName([join(dir, 'none'), dir]), '2.9.1', 'read from the file name behind the soname link');
  // A copy of the real library under the plain soname: the name says nothing, so the version
  // comes from the library itself (dlopen finds this copy first through LD_LIBRARY_PATH).
  const plain = tempDir(t);
  fs.copyFileSync(fs.realpathSync(`/lib/x86_64-linux-gnu/libseccomp.so.2`), join(plain, 'libseccomp.so.2'));
  t.equal(libseccompFromFileName([plain]), undefined);
  const viaLib = run(BUN, [join(REPO, 'src/main.ts'), '--version'], { ...process.env, LD_LIBRARY_PATH: plain });
  t.equal(viaLib.stdout.trimEnd().split('\n')[4], `libseccomp: ${real}`, 'falls back to seccomp_version()');
});

t.test('man pages: one per command, every flag, valid roff', async (t) => {
  const dir = tempDir(t);
  const gen = run(BUN, [join(REPO, 'scripts/gen-man.ts'), dir]);
  t.equal(gen.status, 0, gen.stderr);
  const pages = fs.readdirSync(dir).sort();
  t.same(pages, ['tsrun.8', ...[...COMMANDS.keys()].map((c) => `tsrun-${c}.8`)].sort(), 'tsrun.8 and one page per command');
  const render = (page: string) => {
    const r = run('man', ['-l', join(dir, page)], { ...process.env, MANWIDTH: '300', MANPAGER: 'cat', PAGER: 'cat' });
    t.equal(r.status, 0, `man -l ${page}: ${r.stderr}`);
    return r.stdout.replace(/[\u2010\u2212]/g, '-');
  };
  for (const page of pages) {
    const warn = run('groff', ['-man', '-Tutf8', '-ww', '-z', join(dir, page)]);
    t.equal(warn.stderr, '', `groff -ww: no warning in ${page}`);
  }
  const main = render('tsrun.8');
  t.match(main, /^NAME\n\s+tsrun - Open Container Initiative runtime/m);
  for (const def of COMMANDS.values()) t.match(main, new RegExp(`^\\s+${def.name}\\s`, 'm'), `tsrun.8 lists ${def.name}`);
  for (const f of GLOBAL_FLAGS) t.match(main, new RegExp(`^\\s+--${f.name}\\b`, 'm'), `tsrun.8 has --${f.name}`);
  for (const def of COMMANDS.values()) {
    const text = render(`tsrun-${def.name}.8`);
    t.match(text, new RegExp(`^NAME\\n\\s+tsrun-${def.name} - ${def.summary.replace(/[()]/g, '\\$&')}`, 'm'), `${def.name}: NAME`);
    t.match(text, new RegExp(`^SYNOPSIS\\n\\s+tsrun ${def.name}\\b`, 'm'), `${def.name}: SYNOPSIS`);
    for (const f of def.flags) {
      const head = `--${f.name}${f.type === 'boolean' ? '' : ` ${f.value ?? 'value'}`}`;
      t.match(text, new RegExp(`^\\s+${head.replace(/[[\]]/g, '\\$&')}${f.alias ? `, -${f.alias}\\b` : ''}`, 'm'), `tsrun-${def.name}.8 has ${head}`);
    }
  }
});

// Runs the completion function of the bash script for a command line (the last word is the one
// being completed) and returns the words offered.
function bashComplete(script: string, words: string[]): string[] {
  const r = run('bash', ['-c', `source "$0" && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _tsrun && printf '%s\\n' "\${COMPREPLY[@]}"`, script, ...words]);
  if (r.status !== 0) throw new Error(`bash completion failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

t.test('bash completion', async (t) => {
  const dir = tempDir(t);
  const gen = run(BUN, [join(REPO, 'scripts/gen-completion.ts'), dir]);
  t.equal(gen.status, 0, gen.stderr);
  const script = join(dir, 'tsrun.bash');
  t.equal(run('bash', ['-n', script]).status, 0, 'bash -n');
  const c = (...w: string[]) => bashComplete(script, w);
  t.same(c('tsrun', ''), [...COMMANDS.keys(), 'help'], 'all commands');
  t.same(c('tsrun', 'st'), ['start', 'state']);
  t.same(c('tsrun', '--debug', '--log-format', 'json', 'cr'), ['create'], 'after global flags and their values');
  t.same(c('tsrun', '--log-format', ''), ['text', 'json'], 'a global flag\'s values');
  t.same(c('tsrun', '--rootless', '=', 'a'), ['auto'], '--flag=value split by bash at "="');
  t.same(c('tsrun', '--rootless', '='), ['true', 'false', 'auto'], 'right after "="');
  t.same(c('tsrun', '--r'), ['--root', '--rootless']);
  t.same(c('tsrun', 'create', '--p'), ['--pid-file', '--preserve-fds']);
  t.same(c('tsrun', 'kill', '-'), ['--all', '-a', '--help', '-h']);
  t.same(c('tsrun', 'list', '-f', ''), ['table', 'json']);
  t.same(c('tsrun', 'kill', 'c1', 'SIGK'), ['SIGKILL'], 'signals');
  t.same(c('tsrun', 'kill', 'c1', 'US'), ['USR1', 'USR2']);
  t.same(c('tsrun', 'exec', 'c1', 'ls', '-'), [], 'after exec\'s command, nothing of tsrun\'s');
  t.same(c('tsrun', 'exec', '-t', 'c1', ''), []);
  t.same(c('tsrun', 'help', 'upd'), ['update']);
  fs.mkdirSync(join(dir, 'bundle-a'));
  t.same(c('tsrun', 'run', '--no-pivot', '-b', join(dir, 'bundle-')), [join(dir, 'bundle-a')], 'directories for --bundle');

  // Container ids come from `tsrun [--root dir] list -q`, with the tsrun being completed.
  const bin = join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(join(bin, 'tsrun'), `#!/bin/sh\nexec ${BUN} ${join(REPO, 'src/main.ts')} "$@"\n`, { mode: 0o755 });
  const root = tempDir(t);
  const p = spawnSleep(t);
  writeRecord(root, record('web1', p.pid, { status: 'running' }));
  writeRecord(root, record('web2', p.pid, { status: 'running' }));
  writeRecord(root, record('db1', p.pid, { status: 'running' }));
  const tsrunBin = join(bin, 'tsrun');
  t.same(c(tsrunBin, '--root', root, 'kill', 'we'), ['web1', 'web2'], 'ids from --root');
  t.same(c(tsrunBin, '--root', '=', root, 'state', ''), ['db1', 'web1', 'web2'], 'ids from --root=dir');
  t.same(c(tsrunBin, '--root', root, 'exec', '-t', '--env', 'A=1', 'd'), ['db1'], 'exec\'s id after flags with values');
  t.same(c(tsrunBin, '--root', root, 'spec', ''), [], 'spec takes no id');
});

t.test('zsh completion', { skip: !have('zsh') && 'zsh is not installed (apt-get install zsh)' }, async (t) => {
  const dir = tempDir(t);
  t.equal(run(BUN, [join(REPO, 'scripts/gen-completion.ts'), dir]).status, 0);
  const check = run('zsh', ['-n', join(dir, '_tsrun')]);
  t.equal(check.status, 0, `zsh -n: ${check.stderr}`);
  // A real completion: an interactive zsh in a pty, compinit with the script on $fpath, and
  // compadd wrapped to print what the completion system offers for `<line><TAB>`. The markers
  // are typed split ("<<REA""DY>>"): the pty echoes typed lines at once, and a whole marker in
  // that echo would be matched before zsh ran the line (seen under load: no completions).
  const capture = join(dir, 'capture.zsh');
  fs.writeFileSync(capture, `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT= ; fpath=($1 \\$fpath); autoload -U compinit; compinit -u -d $1/.zcompdump"
zpty -w z '_capture_done() { print -r -- "<<EN""D>>"; exit }; comppostfuncs=( _capture_done )'
zpty -w z 'compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return $?; fi
  local -a hits; builtin compadd -A hits "$@"
  local h; for h in $hits; do print -r -- "<<HIT>>$h"; done
  builtin compadd "$@"
}'
zpty -w z 'print -r -- "<<REA""DY>>"'
zpty -r z out '*<<READY>>*'
zpty -w -n z "$2"$'\\t'
out=
while zpty -r z chunk; do out+=$chunk; [[ $out == *'<<END>>'* ]] && break; done
print -r -- \${(F)\${(M)\${(f)out}:#*<<HIT>>*}//*<<HIT>>/}
zpty -d z
`);
  // `tsrun` on $PATH runs the sources; its containers' ids are completed.
  const bin = join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(join(bin, 'tsrun'), `#!/bin/sh\nexec ${BUN} ${join(REPO, 'src/main.ts')} "$@"\n`, { mode: 0o755 });
  const root = tempDir(t);
  const p = spawnSleep(t);
  for (const id of ['web1', 'web2', 'db1']) writeRecord(root, record(id, p.pid, { status: 'running' }));
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const z = (line: string) => {
    const r = run('timeout', ['30', 'zsh', '-f', capture, dir, line], env);
    t.equal(r.status, 0, `zsh completion of "${line}": ${r.stderr}`);
    return [...new Set(r.stdout.replace(/\r/g, '').split('\n').filter(Boolean))].sort();
  };
  t.same(z('tsrun cr'), ['create']);
  t.same(z('tsrun --log-format '), ['json', 'text']);
  t.same(z('tsrun kill c1 SIGK'), ['SIGKILL']);
  t.same(z('tsrun list -f '), ['json', 'table']);
  t.same(z('tsrun create --p'), ['--pid-file', '--preserve-fds']);
  t.same(z('tsrun exec c1 ls -'), [], 'after exec\'s command, nothing of tsrun\'s');
  t.same(z(`tsrun --root ${root} kill we`), ['web1', 'web2'], 'ids from --root');
  t.same(z(`tsrun --root=${root} exec -t d`), ['db1'], 'ids from --root=dir');
});
