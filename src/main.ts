// tsrun: an OCI runtime-spec v1.3.0 container runtime with runc's command line.
import './caller-nofile.js';
import { main } from './cli/main.js';

process.exit(await main(process.argv.slice(2)));
