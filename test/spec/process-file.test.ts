// `exec --process FILE`: the file is checked like config.json's process (schema, then the
// semantic checks), errors name the file and the JSON pointer inside it; a missing user is
// uid 0, gid 0 (runc: Go's zero value); null members are absent.
import t from 'tap';
import { specModules } from './fixtures/support.js';

const m = await specModules();
const { parseProcess, ConfigError } = m;

function failure(text: string, file = 'process.json'): string {
  try {
    parseProcess(text, file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message;
  }
  return 'accepted';
}

t.test('a minimal process file gets runc\'s defaults', async (t) => {
  const p = parseProcess('{"args": ["/bin/cat", "/tmp/x"], "cwd": "/"}', 'p.json');
  t.strictSame(p.user, { uid: 0, gid: 0 });
  t.strictSame(p.args, ['/bin/cat', '/tmp/x']);
  t.strictSame(parseProcess('{"args": ["sh"], "cwd": "/", "user": null, "env": null}', 'p.json').user, { uid: 0, gid: 0 });
});

t.test('schema errors name the file and the pointer', async (t) => {
  t.equal(failure('{"args": ["sh"], "cwd": "/", "user": {"uid": "0", "gid": 0}}'), 'process.json /user/uid: must be an integer, not a string');
  t.equal(failure('{"args": ["sh"], "cwd": "/", "user": {"gid": 0}}'), 'process.json /user/uid: is required but missing');
  t.equal(failure('{"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE", "soft": "1", "hard": 1}]}'), 'process.json /rlimits/0/soft: must be an integer, not a string');
  t.equal(failure('{"args": ["sh"]}'), 'process.json /cwd: is required but missing');
  t.equal(failure('{"args": [], "cwd": "/"}'), 'process.json /args: must contain at least 1 item');
  t.equal(failure('[]'), 'process.json: must be an object, not an array');
  t.equal(failure('{"args": ["sh"], "cwd": "/",}', '/dev/fd/63'), '/dev/fd/63: invalid JSON: trailing comma in object at line 1 column 29');
});

t.test('semantic errors as for config.json, relative to the process', async (t) => {
  t.equal(failure('{"args": ["sh"], "cwd": "tmp"}'), 'process.json /cwd: must be an absolute path; got "tmp"');
  t.equal(failure('{"cwd": "/"}'), 'process.json /args: is required: it names the program to run');
  t.equal(failure('{"args": ["sh"], "cwd": "/", "env": ["NOEQUALS"]}'), 'process.json /env/0: "NOEQUALS" is not of the form NAME=value');
  t.equal(
    failure('{"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 2, "hard": 1}]}'),
    'process.json /rlimits/0/soft: soft limit 2 is greater than hard limit 1',
  );
  const warnings: string[] = [];
  parseProcess('{"args": ["sh"], "cwd": "/", "capabilities": {"bounding": ["CAP_NOPE"]}}', 'p.json', { warn: (w: string) => warnings.push(w) });
  t.strictSame(warnings, ['p.json /capabilities/bounding/0: unknown capability "CAP_NOPE" is ignored']);
});
