// tsrun: an OCI runtime-spec v1.3.0 container runtime with runc's command line.
import './caller-nofile.js';
import { parseHot } from './cli/hot-line.js';

// The commands engines call most often, in their plain form, take a short path (cli/hot.ts);
// everything else the full command line.
const argv = process.argv.slice(2);
const hot = parseHot(argv);
process.exit(hot ? await (await import('./cli/hot.js')).runHot(hot) : await (await import('./cli/main.js')).main(argv));
