// The long texts of `tsrun --help`, `tsrun <command> --help` and the man pages (scripts/gen-man.ts):
// one source for all three. Paragraphs are separated by blank lines; a paragraph whose lines
// are all indented is shown verbatim (commands, JSON).

export interface CommandHelp {
  /** What the positional arguments are (shown right after the usage line, like runc). */
  args?: string;
  /** What the command does. */
  description?: string;
  /** Worked examples. */
  example?: string;
  /** Related commands, for the man pages' SEE ALSO. */
  seeAlso?: string[];
}

/** The top-level description (`tsrun --help`, tsrun(8)). */
export const OVERVIEW = `tsrun is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format and is a compliant implementation of
the Open Container Initiative runtime specification (runtime-spec 1.3.0), written
in TypeScript. It takes the same command line as runc, so container engines
(containerd, podman, CRI-O, Docker) can use it in runc's place.

Containers are configured using bundles. A bundle for a container is a directory
that includes a specification file named "config.json" and a root filesystem.
The root filesystem contains the contents of the container. "tsrun spec" writes
a starter config.json.

A container is made in two steps, "tsrun create" then "tsrun start", or in one
with "tsrun run". "tsrun state" and "tsrun list" show containers, "tsrun kill"
signals them and "tsrun delete" removes what is left of a stopped one.

To start a new instance of a container:

    # tsrun run [ -b bundle ] <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host. Providing the bundle directory using "-b" is optional. The default
value for "bundle" is the current directory.`;

const NEW_ID = `Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`;

const ID = 'Where "<container-id>" is the name for the instance of the container.';

const CREATE = `The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"tsrun spec --help" for more explanation.`;

const CRIU_NEEDED = `Checkpoint and restore are done by CRIU (criu(8), the binary named by the global
--criu flag, else "criu" in PATH), driven over its RPC interface as runc does.
"tsrun features" tells whether CRIU works on this host (checkpoint.enabled).
When it does not, the command fails with CRIU's own complaint and the path of
its log, and the container is left as it was.`;

export const HELP: Record<string, CommandHelp> = {
  checkpoint: {
    args: 'Where "<container-id>" is the name for the instance of the container to be\ncheckpointed.',
    description: `The checkpoint command saves the state of the container instance: the images
go to --image-path (default: ./checkpoint), CRIU's log (dump.log) to --work-path
if given, else beside the images. Without --leave-running or --pre-dump the
container is stopped and deleted once the dump succeeded; when it fails, the
container keeps running. --pre-dump saves the memory only and leaves the
container running; a later dump names it with --parent-path, a path relative
to --image-path (e.g. ../pre), and saves only the pages changed since.

The image directory also holds descriptors.json (what the container's stdio
were, in runc's format), which restore uses to hand the new stdio over.

${CRIU_NEEDED}`,
    example: `    # tsrun checkpoint --image-path /var/lib/ckpt/web1 web1
    # tsrun checkpoint --pre-dump --image-path /var/lib/ckpt/pre web1
    # tsrun checkpoint --parent-path ../pre --image-path /var/lib/ckpt/final web1`,
    seeAlso: ['restore'],
  },
  create: {
    args: NEW_ID,
    description: `${CREATE}

The container's process does not run yet: create prepares everything (namespaces,
mounts, cgroups, the createRuntime and createContainer hooks) and leaves the
container in the "created" state, its init waiting until "tsrun start".`,
    example: `    # tsrun spec -b mybundle
    # tsrun create -b mybundle web1
    # tsrun start web1`,
    seeAlso: ['spec', 'start', 'run', 'state', 'delete'],
  },
  delete: {
    args: ID,
    description: `The delete command removes a stopped container: its state, its cgroup and the
process that waited for "start" if it never started; the poststop hooks run.
With --force a running container is killed (SIGKILL) first.`,
    example: `For example, if the container id is "ubuntu01" and tsrun list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the tsrun list of containers:

       # tsrun delete ubuntu01`,
    seeAlso: ['kill', 'list', 'state'],
  },
  events: {
    args: ID,
    description: `The events command displays information about the container, one JSON object
per line: "stats" events (cpu, memory, pids and block I/O usage from the
container's cgroup) every --interval, and "oom" events when the kernel's OOM
killer kills a process of the container. It returns when the container stops.
With --stats it prints the statistics once and exits.`,
    example: `    # tsrun events --stats web1
    # tsrun events --interval 1s web1`,
    seeAlso: ['ps', 'update', 'list'],
  },
  exec: {
    args: `Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.`,
    description: `The exec command runs a new process in a running container: it joins the
container's namespaces and cgroup and gets the container's capabilities, user,
environment and working directory unless the options say otherwise. With -p the
process is read from a JSON file in the format of config.json's "process" object,
and the other process options are ignored. Options after "<command>" belong to
the command. Without --detach, exec waits for the process and exits with its
exit status.`,
    example: `For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # tsrun exec <container-id> ps

An interactive shell, as another user with an extra variable:

       # tsrun exec -t -u 1000:1000 -e DEBUG=1 <container-id> sh`,
    seeAlso: ['run', 'ps', 'kill'],
  },
  features: {
    description: `Show the enabled features: the spec versions, hooks, mount options, namespaces,
capabilities, cgroup and seccomp support that tsrun implements on this host.
The result is parsable as a JSON (the runtime-spec "features" document).`,
    seeAlso: ['spec'],
  },
  kill: {
    args: `Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.`,
    description: `The kill command sends a signal to the container's init process (with --all, to
every process in the container's cgroup). The signal is a name (KILL, SIGKILL,
RTMIN+3) or a number; the default is SIGTERM.`,
    example: `For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # tsrun kill ubuntu01 KILL`,
    seeAlso: ['delete', 'state', 'list'],
  },
  list: {
    args: `Where the given root is specified via the global option "--root"
(default: "/run/tsrun" for root).`,
    description: `The list command shows the containers whose state is kept under the root
directory: their id, init pid, status, bundle, creation time and owner, as a
table or as JSON; with --quiet only their ids.`,
    example: `To list containers created via the default "--root":
       # tsrun list

To list containers created using a non-default value for "--root":
       # tsrun --root value list`,
    seeAlso: ['state', 'ps'],
  },
  pause: {
    args: `Where "<container-id>" is the name for the instance of the container to be
paused.`,
    description: `The pause command suspends all processes in the instance of the container
(with the cgroup freezer).

Use tsrun list to identify instances of containers and their current status.`,
    seeAlso: ['resume', 'list'],
  },
  ps: {
    args: `Where "<container-id>" is the name for the instance of the container and
"[ps options]" are options for ps(1) (default: -ef).`,
    description: `The ps command lists the processes of a container: with --format table, the
output of ps(1) run with [ps options], restricted to the container's processes
(the options must make ps print a PID column); with --format json, their pids.`,
    example: `    # tsrun ps web1
    # tsrun ps web1 -o pid,user,args
    # tsrun ps -f json web1`,
    seeAlso: ['exec', 'events', 'list'],
  },
  restore: {
    args: 'Where "<container-id>" is the name for the instance of the container to be\nrestored.',
    description: `Restores the saved state of the container instance that was previously saved
using the tsrun (or runc) checkpoint command. The bundle (--bundle, default: the
current directory) gives the configuration, as for create; the id must be free.
The restored container is running, with its old pid in its pid namespace, and
every other command (state, kill, exec, pause, delete) handles it.

Without --detach, tsrun waits for the container's init, forwards signals to it,
deletes the container once it exited and exits with its status, as run does.
When the restore fails, nothing is left: no state, cgroup or process.

${CRIU_NEEDED}`,
    example: `    # tsrun restore --detach --image-path /var/lib/ckpt/web1 --bundle /containers/web web1`,
    seeAlso: ['checkpoint'],
  },
  resume: {
    args: `Where "<container-id>" is the name for the instance of the container to be
resumed.`,
    description: `The resume command resumes all processes in the instance of the container.

Use tsrun list to identify instances of containers and their current status.`,
    seeAlso: ['pause', 'list'],
  },
  run: {
    args: NEW_ID,
    description: `${CREATE.replace('The create command', 'The run command')}

run is create followed by start. Without --detach, tsrun stays in the foreground:
it forwards signals to the container, waits for the container's process, exits
with its exit status and deletes the container (unless --keep).`,
    example: `    # tsrun run -b mybundle web1
    # tsrun run -d --pid-file /run/web1.pid -b mybundle web1`,
    seeAlso: ['spec', 'create', 'start', 'exec', 'delete'],
  },
  spec: {
    description: `The spec command creates the new specification file named "config.json" for
the bundle (the current directory, or the one given with --bundle). It refuses
to overwrite an existing config.json.

The spec generated is just a starter file, the same as runc's: its process runs
"sh" as root on a terminal ("terminal": true) with a small set of capabilities,
in new pid, network, ipc, uts and mount namespaces, with the root filesystem
"rootfs" mounted read-only. Edit it to get the container you want; at least the
args parameter, since not every root filesystem has "sh", and "terminal" when
the container should not have one.

With --rootless the spec is adjusted for a container started by an unprivileged
user: a user namespace maps the caller's uid and gid to root, there is no
network namespace and no cgroup resources, and /sys is bind-mounted from the
host.`,
    example: `To run a program from a root filesystem exported from an image, make a bundle
around it, point args at the program and run it:

    mkdir hello && cd hello
    mkdir rootfs && tar -C rootfs -xf hello-world.tar
    tsrun spec
    sed -i 's;"sh";"/hello";' config.json
    tsrun run container1`,
    seeAlso: ['create', 'run', 'features'],
  },
  start: {
    args: NEW_ID,
    description: `The start command executes the user defined process in a created container:
it runs the startContainer hooks, lets the process waiting since "tsrun create"
exec the program from config.json's args, then runs the poststart hooks. It
returns at once; use "tsrun state" or "tsrun events" to follow the container.`,
    seeAlso: ['create', 'run', 'state'],
  },
  state: {
    args: ID,
    description: `The state command outputs current state information for the
instance of a container: the runtime-spec state (ociVersion, id, status, pid,
bundle, annotations) as JSON, as runc shows it (with rootfs, created and owner).`,
    seeAlso: ['list', 'events'],
  },
  update: {
    args: ID,
    description: `The update command changes the resource limits of a running container, either
from the flags given, or from a JSON file (--resources) in the format of
config.json's linux.resources object; values not given are left unchanged:

    {
      "memory": { "limit": 0, "reservation": 0, "swap": 0 },
      "cpu": { "shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0,
               "realtimePeriod": 0, "cpus": "", "mems": "" },
      "blockIO": { "weight": 0 },
      "pids": { "limit": 0 }
    }

Note: if data is to be read from a file or the standard input, all
other options are ignored.`,
    example: `    # tsrun update --memory 256m --pids-limit 100 web1
    # echo '{"cpu": {"quota": 50000, "period": 100000}}' | tsrun update -r - web1`,
    seeAlso: ['events', 'pause'],
  },
};

/** One string per command, for yargs' usage text. */
export const DESCRIPTIONS: Record<string, string> = Object.fromEntries(
  Object.entries(HELP).map(([name, h]) => [name, [h.args, h.description, h.example].filter(Boolean).join('\n\n')]),
);
