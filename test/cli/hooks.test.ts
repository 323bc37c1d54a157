// Hooks: state on stdin, argv[0], env, exit statuses, timeouts.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runHook, runHooks } from '../../src/container/runtime-hooks.js';
import type { State } from '../../src/spec/types.js';
import { tempDir } from './fixtures/support.js';

const state: State = { ociVersion: '1.3.0', id: 'h1', status: 'created', pid: 42, bundle: '/b', annotations: { k: 'v' } };

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

t.test('the hook gets the state on stdin, args with args[0] as argv0, and exactly its env', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'out');
  const hook = script(dir, 'h', `cat > ${out}.stdin; echo "$0|$1|$2" > ${out}.args; env -0 > ${out}.env`);
  runHooks('prestart', [{ path: hook, args: ['myname', 'one', 'two'], env: ['FOO=bar', 'X=a=b'] }], state);
  t.same(JSON.parse(fs.readFileSync(`${out}.stdin`, 'utf8')), state);
  // sh reports $0 as the script path; argv0 is checked with a real binary below.
  t.equal(fs.readFileSync(`${out}.args`, 'utf8'), `${hook}|one|two\n`);
  // sh adds PWD, SHLVL and _; tap's spawn wrapper (not tsrun) adds NODE_OPTIONS and _TAPJS_*.
  const env = fs.readFileSync(`${out}.env`, 'utf8').split('\0')
    .filter((l) => l && !/^(PWD|SHLVL|_|NODE_OPTIONS|_TAPJS_[A-Z_]+)=/s.test(l));
  t.same(env.sort(), ['FOO=bar', 'X=a=b']);
});

t.test('argv[0] is args[0]', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'cmdline');
  const hook = script(dir, 'h', `tr '\\0' ' ' < /proc/$PPID/cmdline > ${out}`);
  // bash -c runs the hook as a child: its parent's cmdline shows the argv0 we chose.
  runHook('poststart', { path: '/bin/bash', args: ['custom-argv0', '-c', `${hook}; true`] }, state);
  t.match(fs.readFileSync(out, 'utf8'), /^custom-argv0 -c /);
});

t.test('a failing hook: kind, path, exit status and the end of its stderr', async (t) => {
  const dir = tempDir(t);
  const hook = script(dir, 'fail', 'echo "something broke" >&2; exit 3');
  t.throws(() => runHooks('createRuntime', [{ path: hook }], state), { message: `createRuntime hook ${hook} failed: exit status 3: something broke` });
  const ran = join(dir, 'ran');
  const second = script(dir, 'second', `touch ${ran}`);
  t.throws(() => runHooks('prestart', [{ path: hook }, { path: second }], state));
  t.equal(fs.existsSync(ran), false, 'the hooks after a failing one do not run');
  t.throws(() => runHook('prestart', { path: join(dir, 'missing') }, state), { message: `prestart hook ${join(dir, 'missing')} failed: no such file or directory` });
  const sig = script(dir, 'sig', 'kill -TERM $$');
  t.throws(() => runHook('poststop', { path: sig }, state), { message: `poststop hook ${sig} failed: killed by signal SIGTERM` });
});

t.test('a hook that exits without reading its stdin is judged by its exit status alone', async (t) => {
  const dir = tempDir(t);
  const ok = script(dir, 'ok', 'exit 0');
  const bad = script(dir, 'bad', 'exit 4');
  // Node reports EPIPE for the unread input now and then: run often enough to meet it.
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    runHook('poststart', { path: ok }, state);
    try {
      runHook('poststart', { path: bad }, state);
      seen.add('no error');
    } catch (e) {
      seen.add((e as Error).message);
    }
  }
  t.same([...seen], [`poststart hook ${bad} failed: exit status 4`]);
});

t.test('timeout', async (t) => {
  const dir = tempDir(t);
  const hook = script(dir, 'slow', 'exec sleep 30');
  t.throws(() => runHook('createContainer', { path: hook, timeout: 1 }, state), { message: `hook createContainer ${hook} timed out after 1 s` });
  const quick = script(dir, 'quick', 'cat >/dev/null; exit 0');
  runHook('createContainer', { path: quick, timeout: 5 }, state);
  t.pass('a hook within its timeout succeeds');
});
