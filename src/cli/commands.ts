// Every command and flag, with runc's names: the table the parser and the help are made from.
import type { CommandSpec, FlagSpec } from './args';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { long: 'root', value: 'value', default: '/run/skiff', help: 'root directory for storage of container state' },
  { long: 'log', value: 'value', help: 'set the log file to write runtime errors to (default: stderr)' },
  { long: 'log-format', value: 'value', default: 'text', help: 'set the log format (text or json)' },
  { long: 'debug', help: 'enable debug logging' },
  { long: 'systemd-cgroup', help: 'use systemd for cgroups (cgroupsPath of the form slice:prefix:name)' },
  { long: 'rootless', value: 'value', default: 'auto', help: 'ignore cgroup permission errors (true, false or auto)' },
  { long: 'criu', value: 'value', help: 'accepted for runc compatibility; checkpointing is not supported' },
  { long: 'version', short: 'v', help: 'print the version' },
];

const bundle: FlagSpec = { long: 'bundle', short: 'b', value: 'value', default: '.', help: 'path to the root of the bundle directory' };
const consoleSocket: FlagSpec = { long: 'console-socket', value: 'value', help: 'AF_UNIX socket that receives the pty master of the container' };
const pidFile: FlagSpec = { long: 'pid-file', value: 'value', help: 'file to write the process id to' };
const createFlags: FlagSpec[] = [
  bundle, consoleSocket, pidFile,
  { long: 'no-pivot', help: 'do not use pivot_root to jail the process (MS_MOVE + chroot)' },
  { long: 'no-new-keyring', help: 'do not create a new session keyring for the container' },
  { long: 'preserve-fds', value: 'value', default: '0', help: 'pass N additional file descriptors (3 ...) to the container' },
];
const format: FlagSpec = { long: 'format', short: 'f', value: 'value', default: 'table', help: 'table or json' };
const id = { args: '<container-id>', min: 1, max: 1 };

export const COMMANDS: CommandSpec[] = [
  { name: 'create', ...id, flags: createFlags, help: 'create a container', module: './create' },
  { name: 'run', ...id, help: 'create and run a container', module: './run', flags: [
    ...createFlags,
    { long: 'detach', short: 'd', help: 'detach from the container process' },
    { long: 'keep', help: 'do not delete the container after it exits' },
    { long: 'no-subreaper', help: 'accepted for runc compatibility' },
  ] },
  { name: 'start', ...id, flags: [], help: 'start the user process of a created container', module: './start' },
  { name: 'state', ...id, flags: [], help: 'output the state of a container', module: './state' },
  { name: 'list', aliases: ['ls'], args: '', min: 0, max: 0, help: 'list containers', module: './list',
    flags: [format, { long: 'quiet', short: 'q', help: 'display only container IDs' }] },
  { name: 'kill', args: '<container-id> [signal]', min: 1, max: 2, help: 'send a signal (default SIGTERM) to the container init', module: './kill',
    flags: [{ long: 'all', short: 'a', help: 'send the signal to all processes in the container' }] },
  { name: 'delete', aliases: ['rm'], ...id, help: 'delete any resources held by the container', module: './delete',
    flags: [{ long: 'force', short: 'f', help: 'forcibly delete the container if it is still running (SIGKILL)' }] },
  { name: 'pause', ...id, flags: [], help: 'suspend all processes in the container', module: './pause' },
  { name: 'resume', ...id, flags: [], help: 'resume all processes paused in the container', module: './resume' },
  { name: 'ps', args: '<container-id> [ps options]', min: 1, max: Infinity, flags: [format], help: 'list the processes running inside a container', module: './ps' },
  { name: 'spec', args: '', min: 0, max: 0, help: 'create a new specification file', module: './spec', flags: [
    { long: 'bundle', short: 'b', value: 'value', default: '.', help: 'path to the root of the bundle directory' },
    { long: 'rootless', help: 'generate a configuration for a rootless container' },
  ] },
  { name: 'features', args: '', min: 0, max: 0, flags: [], help: 'show the enabled features', module: './features' },
  { name: 'image', args: '<subcommand> [arguments...]', min: 0, max: Infinity, flags: [], help: 'the image layer store: import, pull, bundle, ls, inspect, rm, prune', module: './image' },
];
