// tsrun: an OCI runtime-spec v1.3.0 container runtime with runc's command line.
import './caller-nofile.js';
import { parseHot } from './cli/hot-line.js';

// `state` and `kill` in their plain form take a short path (cli/hot.ts); everything else, and
// whatever that path does not handle, the full command line.
const argv = process.argv.slice(2);
const hot = parseHot(argv);
const handled = hot ? await (await import('./cli/hot.js')).runHot(hot) : undefined;
process.exit(handled ?? (await (await import('./cli/main.js')).main(argv)));
