// The namespace types a config may name: each one's clone flag and its file under
// /proc/PID/ns. validate.ts accepts exactly these, launch/plan.ts clones or joins them, and
// `skiff features` lists them.
export const CLONE_NEW: Record<string, number> = {
  mount: 0x00020000, cgroup: 0x02000000, uts: 0x04000000, ipc: 0x08000000,
  user: 0x10000000, pid: 0x20000000, network: 0x40000000, time: 0x00000080,
};

// A new time namespace is entered at the init's execve: until `start` its `time` is still
// the runtime's, its time_for_children the container's (the same after execve).
export const NS_FILE: Record<string, string> = {
  network: 'net', mount: 'mnt', pid: 'pid', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time_for_children',
};
