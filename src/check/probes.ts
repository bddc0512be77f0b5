// The probes of `skiff check`: what this kernel and host offer someone about to write a
// config.json. Files under /proc and /sys, and a few syscalls made so that they fail once
// recognised (native/probe.cc): cheap, and nothing is left behind.
import * as fs from 'fs';
import * as os from 'os';
import { native } from '../native';
import { FLAGS } from '../oci/seccomp';
import { resctrlMissing } from '../launch/resctrl';
import type { Finding, Report, Section } from './report';

const ENOSYS = 38;
const EFAULT = 14;
const read = (p: string): string | undefined => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
};
const yes = (name: string, detail: string): Finding => ({ name, ok: true, detail });
const no = (name: string, detail: string): Finding => ({ name, ok: false, detail });
const isRoot = () => process.getuid?.() === 0;

interface MountEntry { point: string; fstype: string; superOpts: string }
function mounts(): MountEntry[] {
  return (read('/proc/self/mountinfo') ?? '').split('\n').filter(Boolean).map((l) => {
    const [pre, post] = l.split(' - ');
    const [fstype, , superOpts] = post.split(' ');
    return { point: pre.split(' ')[4].replace(/\\040/g, ' '), fstype, superOpts };
  });
}

// config.json's name for each namespace and its file under /proc/self/ns.
const NAMESPACES: [string, string][] = [
  ['cgroup', 'cgroup'], ['ipc', 'ipc'], ['mount', 'mnt'], ['network', 'net'], ['pid', 'pid'], ['time', 'time'], ['user', 'user'], ['uts', 'uts'],
];

function namespaces(): Section {
  const findings = NAMESPACES.map(([type, file]) => {
    const there = fs.existsSync(`/proc/self/ns/${file}`);
    let detail = there ? `/proc/self/ns/${file}` : `the kernel has no ${type} namespaces (no /proc/self/ns/${file})`;
    if (type === 'time' && there) detail += '; linux.timeOffsets for boottime and monotonic';
    if (type === 'user' && there) detail += `; max_user_namespaces ${read('/proc/sys/user/max_user_namespaces') ?? '?'}`;
    return { name: type, ok: there, detail };
  });
  return { title: 'Namespaces (linux.namespaces[].type)', findings };
}

function cgroups(): Section {
  const all = mounts();
  const v1 = all.filter((m) => m.fstype === 'cgroup');
  const v2 = all.find((m) => m.fstype === 'cgroup2');
  const rootIsV2 = v2?.point === '/sys/fs/cgroup';
  const findings: Finding[] = [];
  findings.push(rootIsV2 ? yes('version', 'cgroup v2 (unified) at /sys/fs/cgroup')
    : v1.length ? yes('version', `cgroup v1${v2 ? `, hybrid: v2 at ${v2.point}` : ''}`) : no('version', 'no cgroup filesystem mounted'));
  // v1: each mounted hierarchy's controllers (from its super options).
  const v1Controllers = new Map<string, string>();
  for (const m of v1) for (const o of m.superOpts.split(',')) if (!['rw', 'ro'].includes(o) && !o.includes('=')) v1Controllers.set(o, m.point);
  const v2Root = v2?.point;
  const v2Has = new Set((v2Root ? read(`${v2Root}/cgroup.controllers`) ?? '' : '').split(' ').filter(Boolean));
  const delegated = new Set((v2Root ? read(`${v2Root}/cgroup.subtree_control`) ?? '' : '').split(' ').filter(Boolean));
  const known = (read('/proc/cgroups') ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
  for (const [name, , , enabled] of known) {
    if (enabled !== '1') { findings.push(no(name, 'disabled (cgroup_disable= on the kernel command line?)')); continue; }
    if (v2Has.has(name)) {
      findings.push(yes(name, delegated.has(name) ? `v2, delegated (in ${v2Root}/cgroup.subtree_control)` : `v2, not delegated to child groups (not in ${v2Root}/cgroup.subtree_control)`));
    } else if (v1Controllers.has(name)) {
      findings.push(yes(name, `v1 at ${v1Controllers.get(name)}`));
    } else findings.push(no(name, 'in the kernel but mounted in no hierarchy'));
  }
  if (fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us'))
    findings.push(yes('realtime groups', 'RT_GROUP_SCHED on v1: a SCHED_FIFO/RR process.scheduler needs linux.resources.cpu.realtimeRuntime'));
  return { title: 'Cgroups (linux.resources, linux.cgroupsPath)', findings };
}

// The kernel's action names (actions_avail) for each action a profile may give.
const SECCOMP_ACTIONS: [string, string][] = [
  ['SCMP_ACT_KILL_PROCESS', 'kill_process'], ['SCMP_ACT_KILL_THREAD', 'kill_thread'], ['SCMP_ACT_TRAP', 'trap'],
  ['SCMP_ACT_ERRNO', 'errno'], ['SCMP_ACT_TRACE', 'trace'], ['SCMP_ACT_LOG', 'log'], ['SCMP_ACT_ALLOW', 'allow'], ['SCMP_ACT_NOTIFY', 'user_notif'],
];
const NEW_LISTENER = 8;

function seccomp(): Section {
  const avail = read('/proc/sys/kernel/seccomp/actions_avail');
  if (avail === undefined) return { title: 'Seccomp (linux.seccomp)', findings: [no('seccomp', 'no /proc/sys/kernel/seccomp: the kernel has no seccomp filters')] };
  const acts = new Set(avail.split(' '));
  const findings: Finding[] = [yes('filters', `mode 2 (BPF filters); actions_avail: ${avail}`)];
  for (const [name, kernel] of SECCOMP_ACTIONS) {
    findings.push(acts.has(kernel) ? yes(name, kernel === 'user_notif' ? 'notify: the listener fd goes to linux.seccomp.listenerPath' : kernel) : no(name, `the kernel lacks ${kernel}`));
  }
  for (const [name, bit] of Object.entries(FLAGS)) {
    // WAIT_KILLABLE_RECV is only valid with a listener.
    const e = native().seccompFlagErrno(name.endsWith('WAIT_KILLABLE_RECV') ? bit | NEW_LISTENER : bit);
    findings.push(e === EFAULT ? yes(name, 'flag known to the kernel') : no(name, `the kernel refuses the flag (${os.constants.errno.EINVAL === e ? 'EINVAL' : `errno ${e}`})`));
  }
  return { title: 'Seccomp (linux.seccomp)', findings };
}

const syscallThere = (name: Parameters<ReturnType<typeof native>['syscallErrno']>[0]) => native().syscallErrno(name) !== ENOSYS;

function mountFeatures(): Section {
  const findings: Finding[] = [];
  const setattr = syscallThere('mount_setattr');
  findings.push(setattr ? yes('mount_setattr', 'recursive mount attributes (rro, rnosuid, ...) and idmapped mounts') : no('mount_setattr', 'kernel before 5.12: no recursive attributes, no idmapped mounts'));
  findings.push(syscallThere('open_tree') ? yes('open_tree', 'detached mount trees (the new mount API)') : no('open_tree', 'kernel before 5.2'));
  if (!setattr) return { title: 'Mounts', findings };
  if (!isRoot()) {
    findings.push({ name: 'idmapped mounts', ok: null, detail: 'probed per filesystem only as root (it clones a mount)' });
    return { title: 'Mounts', findings };
  }
  // One mount point per filesystem type, the shortest: a detached clone of it, idmapped.
  const byType = new Map<string, string>();
  for (const m of mounts()) if (!byType.has(m.fstype) || m.point.length < byType.get(m.fstype)!.length) byType.set(m.fstype, m.point);
  const types = [...byType.keys()].sort();
  const errnos = native().idmapProbe(types.map((t) => byType.get(t)!));
  types.forEach((t, i) => {
    const e = errnos[i];
    findings.push(e === 0 ? yes(`idmap ${t}`, `mounts[].uidMappings work on ${t} (tried at ${byType.get(t)})`)
      : no(`idmap ${t}`, `${t} does not take idmapped mounts (${errnoName(e)} at ${byType.get(t)})`));
  });
  return { title: 'Mounts', findings };
}

const errnoName = (e: number) => Object.entries(os.constants.errno).find(([, v]) => v === e)?.[0] ?? `errno ${e}`;

function kernelVersionAtLeast(major: number, minor: number): boolean {
  const [a, b] = os.release().split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}

function processes(): Section {
  const findings: Finding[] = [];
  const clone3 = syscallThere('clone3');
  findings.push(clone3 ? yes('clone3', 'used to create every container') : no('clone3', 'kernel before 5.3: skiff falls back to clone'));
  const v2 = mounts().find((m) => m.fstype === 'cgroup2');
  const into = clone3 && kernelVersionAtLeast(5, 7);
  findings.push(into && v2?.point === '/sys/fs/cgroup' ? yes('CLONE_INTO_CGROUP', 'the init is born in its cgroup (cgroup v2)')
    : into ? yes('CLONE_INTO_CGROUP', `in the kernel; skiff uses it on cgroup v2 hosts, here v1 joins after clone${v2 ? ` (v2 only at ${v2.point})` : ''}`)
      : no('CLONE_INTO_CGROUP', 'needs clone3 and kernel 5.7'));
  const pidfd = syscallThere('pidfd_open') && syscallThere('pidfd_send_signal');
  findings.push(pidfd ? yes('pidfd', 'pidfd_open and pidfd_send_signal: --pidfd-socket') : no('pidfd', 'kernel before 5.3: no --pidfd-socket'));
  findings.push(syscallThere('sched_setattr') ? yes('sched_setattr', 'process.scheduler: SCHED_OTHER/BATCH/IDLE/FIFO/RR/DEADLINE') : no('sched_setattr', 'no process.scheduler'));
  findings.push(syscallThere('ioprio_set') ? yes('ioprio_set', 'process.ioPriority') : no('ioprio_set', 'no process.ioPriority'));
  const nodes = read('/sys/devices/system/node/online');
  findings.push(syscallThere('set_mempolicy') ? yes('set_mempolicy', `linux.memoryPolicy; NUMA nodes online: ${nodes ?? 'none listed'}`) : no('set_mempolicy', 'kernel without NUMA: no linux.memoryPolicy'));
  findings.push(os.arch() === 'x64' || os.arch() === 'arm64' ? yes('personality', `linux.personality LINUX32 on ${os.arch()}`) : yes('personality', 'linux.personality LINUX'));
  return { title: 'Processes', findings };
}

function security(): Section {
  const findings: Finding[] = [];
  const lsm = read('/sys/kernel/security/lsm');
  // Without securityfs the active list is not readable; /proc/self/attr names the LSMs built in.
  let builtIn: string[] = [];
  try {
    builtIn = fs.readdirSync('/proc/self/attr', { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    // no /proc/self/attr
  }
  findings.push(lsm !== undefined ? yes('LSMs', lsm.replace(/,/g, ', '))
    : { name: 'LSMs', ok: null, detail: `securityfs is not mounted (/sys/kernel/security), the active list is unknown; built in with attributes: ${builtIn.join(', ') || 'none'}` });
  const selinux = fs.existsSync('/sys/fs/selinux/enforce');
  findings.push(selinux ? yes('SELinux', `enforce=${read('/sys/fs/selinux/enforce')}: process.selinuxLabel, linux.mountLabel`) : no('SELinux', 'not enabled (no /sys/fs/selinux): process.selinuxLabel and linux.mountLabel are refused'));
  const aa = fs.existsSync('/sys/kernel/security/apparmor') || read('/sys/module/apparmor/parameters/enabled') === 'Y';
  findings.push(aa ? yes('AppArmor', 'process.apparmorProfile') : no('AppArmor', 'not enabled: process.apparmorProfile is refused'));
  const missing = resctrlMissing();
  findings.push(missing ? no('resctrl', `${missing}: linux.intelRdt is refused`) : yes('resctrl', 'linux.intelRdt'));
  return { title: 'Security and resource control', findings };
}

// /etc/subuid or /etc/subgid: "user:start:count" lines.
function subIds(file: string): Finding {
  const text = read(file);
  if (text === undefined) return no(file, 'missing: rootless containers get a single id');
  const ranges = text.split('\n').filter((l) => /^[^:#]+:\d+:\d+$/.test(l));
  return ranges.length ? yes(file, ranges.slice(0, 4).join(', ') + (ranges.length > 4 ? `, ... (${ranges.length} ranges)` : ''))
    : no(file, 'no ranges: rootless containers get a single id');
}

function userNamespaces(): Section {
  const findings: Finding[] = [];
  const max = read('/proc/sys/user/max_user_namespaces');
  findings.push(max === undefined ? no('max_user_namespaces', 'no user namespaces') : Number(max) > 0 ? yes('max_user_namespaces', max) : no('max_user_namespaces', '0: user namespaces are off'));
  const unpriv = read('/proc/sys/kernel/unprivileged_userns_clone');
  if (unpriv !== undefined) findings.push(unpriv === '1' ? yes('unprivileged_userns_clone', '1') : no('unprivileged_userns_clone', '0: only root makes user namespaces'));
  findings.push(subIds('/etc/subuid'), subIds('/etc/subgid'));
  for (const tool of ['newuidmap', 'newgidmap']) {
    const at = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => `${d}/${tool}`).find((p) => fs.existsSync(p));
    findings.push(at ? yes(tool, at) : no(tool, 'not installed (Debian: uidmap): rootless maps only the user\'s own id'));
  }
  return { title: 'User namespaces (rootless)', findings };
}

export function probeHost(): Report {
  return {
    kernel: `${os.release()} ${os.arch()}`,
    sections: [namespaces(), cgroups(), seccomp(), mountFeatures(), processes(), security(), userNamespaces()],
  };
}
