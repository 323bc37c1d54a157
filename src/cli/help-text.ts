// Long descriptions shown by `tsrun <command> --help` (runc's texts, for tsrun).

const ID_CREATE = `Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`;

const CREATE_DESC = `The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"tsrun spec --help" for more explanation.`;

export const DESCRIPTIONS: Record<string, string> = {
  create: `${ID_CREATE}\n\n${CREATE_DESC}`,
  run: `${ID_CREATE}\n\n${CREATE_DESC.replace('The create command', 'The run command')}`,
  start: `${ID_CREATE}\n\nThe start command executes the user defined process in a created container.`,
  state: `Where "<container-id>" is your name for the instance of the container.

The state command outputs current state information for the
instance of a container.`,
  kill: `Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # tsrun kill ubuntu01 KILL`,
  delete: `Where "<container-id>" is the name for the instance of the container.

For example, if the container id is "ubuntu01" and tsrun list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the tsrun list of containers:

       # tsrun delete ubuntu01`,
  list: `Where the given root is specified via the global option "--root".

To list containers created using a non-default value for "--root":
       # tsrun --root value list`,
  ps: 'Lists the processes of a container: with --format table, the output of ps(1) (given [ps options], default -ef) restricted to them; with json, their pids.',
  events: `Where "<container-id>" is the name for the instance of the container.

The events command displays information about the container. By default the
information is displayed once every 5 seconds.`,
  pause: `Where "<container-id>" is the name for the instance of the container to be
paused.

The pause command suspends all processes in the instance of the container.

Use tsrun list to identify instances of containers and their current status.`,
  resume: `Where "<container-id>" is the name for the instance of the container to be
resumed.

The resume command resumes all processes in the instance of the container.

Use tsrun list to identify instances of containers and their current status.`,
  update: `The accepted format of --resources is the spec's linux.resources object
(unchanged values can be omitted), for example:

{
  "memory": { "limit": 0, "reservation": 0, "swap": 0 },
  "cpu": { "shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0,
           "realtimePeriod": 0, "cpus": "", "mems": "" },
  "blockIO": { "weight": 0 }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.`,
  exec: `Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # tsrun exec <container-id> ps`,
  spec: `The spec command creates the new specification file named "config.json" for
the bundle.

The spec generated is just a starter file. Editing of the spec is required to
achieve desired results. For example, the newly generated spec includes an args
parameter that is initially set to call the "sh" command when the container is
started. Calling "sh" may work for an ubuntu container or busybox, but will not
work for containers that do not include the "sh" program.

You can pass the parameter --rootless to this command to generate a proper
rootless spec file.`,
  features: `Show the enabled features.
The result is parsable as a JSON.`,
  checkpoint: 'Not supported by tsrun.',
  restore: 'Not supported by tsrun.',
};
