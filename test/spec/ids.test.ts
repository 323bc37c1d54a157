// Container ID rules (runc's validateID) and their messages, checked against runc itself.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { specModules, tempDir } from './fixtures/support.js';

const { validateId, isValidId, InvalidIdError, MAX_ID_LENGTH } = await specModules();

t.test('accepted ids', async (t) => {
  for (const id of ['a', 'web1', 'A-Z_a-z.0+9', '...', 'a..b', '-x', '.hidden', 'x'.repeat(MAX_ID_LENGTH)]) {
    t.doesNotThrow(() => validateId(id), id);
    t.equal(isValidId(id), true, id);
  }
});

t.test('empty id', async (t) => {
  t.throws(() => validateId(''), new InvalidIdError('container id cannot be empty'));
});

t.test('rejected ids use runc wording', async (t) => {
  for (const id of ['.', '..', 'a/b', '/abs', 'a b', 'tab\there', 'a,b', 'é', 'a:b', 'a@b', 'a\nb', 'a\0b']) {
    t.throws(() => validateId(id), { name: 'InvalidIdError', message: 'invalid container ID format' }, JSON.stringify(id));
    t.equal(isValidId(id), false, JSON.stringify(id));
  }
});

t.test('ids longer than NAME_MAX cannot name the state directory', async (t) => {
  t.throws(() => validateId('x'.repeat(MAX_ID_LENGTH + 1)), /longer than 255 characters/);
});

// runc 1.1.5 is installed here: its verdict on the ids above (it reports a valid id that
// does not exist as "container does not exist"). The comma is the one known difference:
// runc 1.1's regexp ^[\w+-\.]+$ reads "+-." as a range that contains ",", which later runc fixed.
const haveRunc = spawnSync('runc', ['--version']).status === 0;
t.test('same verdict as the installed runc', { skip: haveRunc ? false : 'runc is not installed' }, async (t) => {
  const root = tempDir(t);
  for (const id of ['web1', 'A-Z_a-z.0+9', '...', '.', '..', 'a/b', 'a b', 'é', 'a:b', 'a,b']) {
    const r = spawnSync('runc', ['--root', root, 'state', id], { encoding: 'utf8' });
    const runcValid = /container does not exist/.test(r.stderr);
    const runcInvalid = /invalid container ID format/.test(r.stderr);
    t.ok(runcValid || runcInvalid, `runc gave a verdict on ${JSON.stringify(id)}: ${r.stderr.trim()}`);
    const expected = id === 'a,b' ? !runcValid : runcValid;
    t.equal(isValidId(id), expected, `${JSON.stringify(id)}: runc says ${runcValid ? 'valid' : 'invalid'}`);
  }
});
