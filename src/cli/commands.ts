// Every command and flag, with runc's names: the table the parser and the help are made from.
import type { CommandSpec, FlagSpec } from './args';

export const GLOBAL_FLAGS: FlagSpec[] = [
  { long: 'root', value: 'value', help: 'root directory for storage of container state (default: /run/skiff, $XDG_RUNTIME_DIR/skiff for a non-root user)' },
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
const pidfdSocket: FlagSpec = { long: 'pidfd-socket', value: 'value', help: 'AF_UNIX socket that receives a pidfd of the container process' };
const createFlags: FlagSpec[] = [
  bundle, consoleSocket, pidFile, pidfdSocket,
  { long: 'no-pivot', help: 'do not use pivot_root to jail the process (MS_MOVE + chroot)' },
  { long: 'no-new-keyring', help: 'do not create a new session keyring for the container' },
  { long: 'preserve-fds', value: 'value', default: '0', help: 'pass N additional file descriptors (3 ...) to the container' },
];
const format: FlagSpec = { long: 'format', short: 'f', value: 'value', default: 'table', help: 'table or json' };
const id = { args: '<container-id>', min: 1, max: 1 };

// skiff image ...: OCI images in a content-addressed store, and bundles made from them.
const imageRoot: FlagSpec = { long: 'image-root', value: 'dir', help: 'image store directory (default /var/lib/skiff, or $SKIFF_IMAGE_ROOT)' };
const platform: FlagSpec = { long: 'platform', value: 'os/arch[/variant]', help: 'platform to pick from a multi-platform image' };
const imageName: FlagSpec = { long: 'name', value: 'ref', help: 'store the image under this name' };
const noUnpack: FlagSpec = { long: 'no-unpack', help: 'store the blobs only; the first bundle unpacks the layers' };
const policy: FlagSpec = { long: 'policy', value: 'file', help: 'signature policy, containers-policy.json(5) (default /etc/containers/policy.json)' };
const registriesD: FlagSpec = { long: 'registries-d', value: 'dir', help: 'signature locations, containers-registries.d(5) (default /etc/containers/registries.d)' };
const IMAGE_COMMANDS: CommandSpec[] = [
  { name: 'import', args: '<path>', min: 1, max: 1, load: () => require('./image/import'), help: 'import an image from an OCI layout, oci-archive or docker-archive',
    flags: [imageName, { long: 'tag', value: 'tag', help: 'which image of a layout or archive holding several' }, platform, noUnpack, policy, imageRoot] },
  { name: 'pull', args: '<ref>', min: 1, max: 1, load: () => require('./image/pull'), help: 'pull an image from a registry (OCI distribution API)',
    flags: [{ long: 'insecure', help: 'plain http (for loopback/test registries)' }, platform,
      { long: 'creds', value: 'user:password', help: 'registry credentials (default: ~/.docker/config.json)' }, imageName, noUnpack,
      { long: 'quiet', short: 'q', help: 'no progress output' }, policy, registriesD, imageRoot] },
  { name: 'save', args: '<image>...', min: 1, max: 1000, load: () => require('./image/save'), help: 'write images to an oci-archive or docker-archive (docker load reads it)',
    flags: [{ long: 'output', short: 'o', value: 'file', help: 'the archive to write' },
      { long: 'format', value: 'format', default: 'oci-archive', help: 'oci-archive or docker-archive' }, imageRoot] },
  { name: 'load', args: '', min: 0, max: 0, load: () => require('./image/load'), help: 'load every image of an archive (docker save, podman save, skiff image save)',
    flags: [{ long: 'input', short: 'i', value: 'file', help: 'the archive to read' }, platform, policy, imageRoot] },
  { name: 'commit', args: '<bundle> <name>', min: 2, max: 2, load: () => require('./image/commit'), help: 'make the changes in an overlay bundle a new layer and image on top of its image',
    flags: [imageRoot] },
  { name: 'bundle', args: '<image> <dir>', min: 2, max: 2, load: () => require('./image/bundle'), help: 'make an OCI runtime bundle (config.json + rootfs) from an image',
    flags: [{ long: 'copy', help: 'flattened copy of the layers instead of an overlayfs mount' },
      { long: 'overlay', help: 'require overlayfs (no fallback to a copy)' }, imageRoot] },
  { name: 'unbundle', args: '<dir>', min: 1, max: 1, load: () => require('./image/unbundle'), help: 'unmount and remove a bundle', flags: [imageRoot] },
  { name: 'ls', aliases: ['list'], args: '', min: 0, max: 0, load: () => require('./image/ls'), help: 'list images with their disk usage',
    flags: [{ long: 'quiet', short: 'q', help: 'names only' }, { long: 'json', help: 'machine-readable output' }, imageRoot] },
  { name: 'inspect', args: '<image>', min: 1, max: 1, load: () => require('./image/inspect'), help: 'show an image: manifest, config, layers, disk usage, signatures and the policy\'s verdict', flags: [policy, imageRoot] },
  { name: 'rm', aliases: ['remove'], args: '<image>...', min: 1, max: 1000, load: () => require('./image/rm'), help: 'remove image names (run prune to free the space)', flags: [imageRoot] },
  { name: 'prune', args: '', min: 0, max: 0, load: () => require('./image/prune'), help: 'remove blobs and layers no image name or bundle uses', flags: [imageRoot] },
];

// run/create --image: a bundle made from a stored (or pulled) image, removed with the container.
const fromImage: FlagSpec[] = [
  { long: 'image', value: 'ref', help: 'run this image (pulled if missing) in a bundle made for the container; -- ARGS replace its Cmd' },
  imageRoot, policy, registriesD, { long: 'insecure', help: 'pull the image over plain http' },
];

// checkpoint and restore take runc's flags and check them; CRIU itself is not supported.
const criu = (f: string, help: string, value?: string): FlagSpec => ({ long: f, help, ...(value ? { value } : {}) });
const criuShared: FlagSpec[] = [
  criu('image-path', 'path for saving criu image files', 'value'), criu('work-path', 'path for saving work files and logs', 'value'),
  criu('tcp-established', 'allow open tcp connections'), criu('ext-unix-sk', 'allow external unix sockets'),
  criu('shell-job', 'allow shell jobs'), criu('file-locks', 'handle file locks, for safety'),
  criu('manage-cgroups-mode', "cgroups mode: 'soft' (default), 'full' and 'strict'", 'value'),
  { long: 'empty-ns', value: 'value', repeat: true, help: "create a namespace, but don't restore its properties" },
  criu('auto-dedup', 'enable auto deduplication of memory images'), criu('lazy-pages', 'use userfaultfd to lazily restore memory pages'),
];
const CRIU_COMMANDS: CommandSpec[] = [
  { name: 'checkpoint', ...id, help: 'checkpoint a running container (not supported: skiff has no CRIU support)', load: () => require('./checkpoint'), flags: [
    ...criuShared, criu('parent-path', 'path for previous criu image files in pre-dump', 'value'),
    criu('leave-running', 'leave the process running after checkpointing'),
    { long: 'status-fd', value: 'value', default: '-1', help: 'criu writes \\0 to this FD once lazy-pages is ready' },
    criu('page-server', 'ADDRESS:PORT of the page server', 'value'),
    criu('pre-dump', 'dump container\'s memory information only, leave the container running after this'),
  ] },
  { name: 'restore', ...id, help: 'restore a container from a previous checkpoint (not supported: skiff has no CRIU support)', load: () => require('./restore'), flags: [
    ...criuShared, bundle, consoleSocket, pidFile,
    { long: 'detach', short: 'd', help: "detach from the container's process" },
    criu('no-subreaper', 'disable the use of the subreaper used to reap reparented processes'),
    criu('no-pivot', 'do not use pivot root to jail process inside rootfs'),
    criu('lsm-profile', 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.', 'value'),
    criu('lsm-mount-context', 'Specify an LSM mount context to be used during restore.', 'value'),
  ] },
];

export const COMMANDS: CommandSpec[] = [
  { name: 'create', ...id, flags: [...createFlags, ...fromImage], help: 'create a container', load: () => require('./create'), dashArgs: true },
  { name: 'run', ...id, help: 'create and run a container', load: () => require('./run'), dashArgs: true, flags: [
    ...createFlags, ...fromImage,
    { long: 'detach', short: 'd', help: 'detach from the container process' },
    { long: 'keep', help: 'do not delete the container after it exits' },
    { long: 'no-subreaper', help: 'accepted for runc compatibility' },
  ] },
  { name: 'start', ...id, flags: [], help: 'start the user process of a created container', load: () => require('./start') },
  { name: 'state', ...id, flags: [], help: 'output the state of a container', load: () => require('./state') },
  { name: 'list', aliases: ['ls'], args: '', min: 0, max: 0, help: 'list containers', load: () => require('./list'),
    flags: [format, { long: 'quiet', short: 'q', help: 'display only container IDs' }] },
  { name: 'kill', args: '<container-id> [signal]', min: 1, max: 2, help: 'send a signal (default SIGTERM) to the container init', load: () => require('./kill'),
    flags: [{ long: 'all', short: 'a', help: 'send the signal to all processes in the container' }] },
  { name: 'delete', aliases: ['rm'], ...id, help: 'delete any resources held by the container', load: () => require('./delete'),
    flags: [{ long: 'force', short: 'f', help: 'forcibly delete the container if it is still running (SIGKILL)' }] },
  { name: 'pause', ...id, flags: [], help: 'suspend all processes in the container', load: () => require('./pause') },
  { name: 'resume', ...id, flags: [], help: 'resume all processes paused in the container', load: () => require('./resume') },
  { name: 'ps', args: '<container-id> [ps options]', min: 1, max: Infinity, flags: [format], help: 'list the processes running inside a container', load: () => require('./ps') },
  { name: 'spec', args: '', min: 0, max: 0, help: 'create a new specification file', load: () => require('./spec'), flags: [
    { long: 'bundle', short: 'b', value: 'value', default: '.', help: 'path to the root of the bundle directory' },
    { long: 'rootless', help: 'generate a configuration for a rootless container' },
  ] },
  { name: 'update', ...id, help: 'update container resource constraints', load: () => require('./update'), flags: [
    { long: 'resources', short: 'r', value: 'value', help: "path to the file containing the resources to update or '-' to read from the standard input" },
    { long: 'blkio-weight', value: 'value', help: 'Specifies per cgroup weight, range is from 10 to 1000' },
    { long: 'cpu-period', value: 'value', help: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
    { long: 'cpu-quota', value: 'value', help: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
    { long: 'cpu-burst', value: 'value', help: 'CPU CFS hardcap burst limit (in usecs)' },
    { long: 'cpu-share', value: 'value', help: 'CPU shares (relative weight vs. other containers)' },
    { long: 'cpu-shares', value: 'value', help: 'same as --cpu-share' },
    { long: 'cpu-rt-period', value: 'value', help: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
    { long: 'cpu-rt-runtime', value: 'value', help: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
    { long: 'cpuset-cpus', value: 'value', help: 'CPU(s) to use' },
    { long: 'cpuset-mems', value: 'value', help: 'Memory node(s) to use' },
    { long: 'cpu-idle', value: 'value', help: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
    { long: 'kernel-memory', value: 'value', help: '(obsoleted; ignored)' },
    { long: 'kernel-memory-tcp', value: 'value', help: '(obsoleted; ignored)' },
    { long: 'memory', value: 'value', help: 'Memory limit (in bytes)' },
    { long: 'memory-reservation', value: 'value', help: 'Memory reservation or soft_limit (in bytes)' },
    { long: 'memory-swap', value: 'value', help: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
    { long: 'pids-limit', value: 'value', help: 'Maximum number of pids allowed in the container' },
    { long: 'l3-cache-schema', value: 'value', help: 'The string of Intel RDT/CAT L3 cache schema' },
    { long: 'mem-bw-schema', value: 'value', help: 'The string of Intel RDT/MBA memory bandwidth schema' },
  ] },
  { name: 'events', ...id, help: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics', load: () => require('./events'), flags: [
    { long: 'interval', value: 'value', default: '5s', help: 'set the stats collection interval' },
    { long: 'stats', help: "display the container's stats then exit" },
  ] },
  { name: 'exec', args: '<container-id> <command> [command options]', min: 1, max: Infinity, help: 'execute a new process inside the container', load: () => require('./exec'), flags: [
    consoleSocket, pidFile, pidfdSocket,
    { long: 'cwd', value: 'value', help: 'current working directory in the container' },
    { long: 'env', short: 'e', value: 'value', repeat: true, help: 'set environment variables' },
    { long: 'tty', short: 't', help: 'allocate a pseudo-TTY' },
    { long: 'user', short: 'u', value: 'value', help: 'UID (format: <uid>[:<gid>])' },
    { long: 'additional-gids', short: 'g', value: 'value', repeat: true, help: 'additional gids' },
    { long: 'process', short: 'p', value: 'value', help: 'path to the process.json' },
    { long: 'detach', short: 'd', help: 'detach from the container\'s process' },
    { long: 'process-label', value: 'value', help: 'set the asm process label for the process commonly used with selinux' },
    { long: 'apparmor', value: 'value', help: 'set the apparmor profile for the process' },
    { long: 'no-new-privs', help: 'set the no new privileges value for the process' },
    { long: 'cap', short: 'c', value: 'value', repeat: true, help: 'add a capability to the bounding set for the process' },
    { long: 'preserve-fds', value: 'value', default: '0', help: 'pass N additional file descriptors to the container' },
    { long: 'cgroup', value: 'value', repeat: true, help: 'run the process in an (existing) sub-cgroup(s)' },
    { long: 'ignore-paused', help: 'allow exec in a paused container' },
  ] },
  { name: 'check', args: '', min: 0, max: 0, help: 'report the kernel features this host offers a config.json (namespaces, cgroups, seccomp, mounts, ...)', load: () => require('./check'),
    flags: [{ long: 'json', help: 'machine-readable output' }] },
  { name: 'features', args: '', min: 0, max: 0, flags: [], help: 'show the enabled features', load: () => require('./features') },
  ...CRIU_COMMANDS,
  { name: 'image', args: '<command> [arguments...]', min: 0, max: 0, flags: [], help: 'the image layer store: import, pull, save, load, commit, bundle, ls, inspect, rm, prune', subcommands: IMAGE_COMMANDS },
];
