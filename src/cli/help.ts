// The top-level help text, built from the command table without yargs (start-up cost).
import { GLOBAL_FLAGS } from './globals.js';
import { COMMANDS, type FlagDef } from './table.js';
import { VERSION } from './version.js';

export function flagLabel(f: FlagDef): string {
  const v = f.type === 'boolean' ? '' : ' value';
  return `--${f.name}${v}${f.alias ? `, -${f.alias}${v}` : ''}`;
}

function columns(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `   ${a.padEnd(w)}  ${b}`).join('\n');
}

export function topLevelHelp(defaultRoot: string): string {
  const cmds: [string, string][] = [...COMMANDS.values()].map((c) => [c.name, c.summary]);
  cmds.push(['help, h', 'Shows a list of commands or help for one command']);
  const globals: [string, string][] = GLOBAL_FLAGS.map((f) => {
    const dflt = f.name === 'root' ? defaultRoot : f.default;
    return [flagLabel(f), dflt === undefined ? f.desc : `${f.desc} (default: ${JSON.stringify(dflt)})`];
  });
  globals.push(['--help, -h', 'show help']);
  return `NAME:
   tsrun - Open Container Initiative runtime

tsrun is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format and is a compliant implementation of the
Open Container Initiative specification (runtime-spec 1.3.0), written in TypeScript.
It takes the same command line as runc.

To start a new instance of a container:

    # tsrun run [ -b bundle ] <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host. Providing the bundle directory using "-b" is optional. The default
value for "bundle" is the current directory.

USAGE:
   tsrun [global options] command [command options] [arguments...]

VERSION:
   ${VERSION}

COMMANDS:
${columns(cmds)}

GLOBAL OPTIONS:
${columns(globals)}
`;
}
