// tsrun: an OCI runtime-spec v1.3.0 container runtime with runc's command line.
import './caller-nofile.js';
import { runHot } from './cli/hot.js';

// `state` and `kill` in their plain form take a short path (cli/hot.ts); everything else, and
// whatever that path does not handle, the full command line.
const argv = process.argv.slice(2);
process.exit((await runHot(argv)) ?? (await (await import('./cli/main.js')).main(argv)));
