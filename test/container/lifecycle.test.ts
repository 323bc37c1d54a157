// The lifecycle table: which status each command accepts, the refusals in runc's words, and
// what follows pause and resume (no kernel needed).
import t from 'tap';
import { accepts, requireExecutable, requireStatus, statusAfter } from '../../src/container/lifecycle.js';

t.test('what each command accepts', async (t) => {
  t.ok(accepts('start', 'created'));
  for (const s of ['running', 'paused', 'stopped'] as const) t.notOk(accepts('start', s), `start: not ${s}`);
  t.ok(accepts('kill --all', 'stopped'), 'kill --all of a stopped container (runc)');
  t.notOk(accepts('kill', 'stopped'));
  t.ok(accepts('pause', 'created') && accepts('pause', 'running'));
  t.notOk(accepts('pause', 'paused'));
  t.same(['created', 'running', 'paused', 'stopped'].filter((s) => accepts('delete', s as 'stopped')), ['stopped'], 'delete: stopped only (runtime.md)');
});

t.test("refusals are one line in runc's words", async (t) => {
  t.throws(() => requireStatus('start', 'stopped'), /^cannot start a container that has stopped$/);
  t.throws(() => requireStatus('start', 'running'), /^cannot start an already running container$/);
  t.throws(() => requireStatus('resume', 'running'), /^container not paused$/);
  t.throws(() => requireStatus('delete', 'running', 'web1'), /^cannot delete container web1 that is not stopped: running$/);
  t.throws(() => requireExecutable('paused', false), /use --ignore-paused to override/);
  t.doesNotThrow(() => requireExecutable('paused', true));
  t.throws(() => requireExecutable('stopped', true), /^cannot exec in a stopped container$/);
});

t.test('the status after pause and resume', async (t) => {
  t.equal(statusAfter('pause', true), 'paused');
  t.equal(statusAfter('resume', true), 'created', 'paused before start: created again');
  t.equal(statusAfter('resume', false), 'running');
});
