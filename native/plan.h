// The launch plan: everything the container init needs, built by the parent before clone.
// The child only reads it (see design.md section 2): all strings and arrays are owned by the
// parent's PlanStorage, which the forked child inherits as a copy of the address space.
#pragma once
#include <stdint.h>
#include <sys/types.h>
#include <sys/resource.h>

namespace skiff {

struct MountSpec {
  const char* source;       // may be null (proc, tmpfs, ...)
  const char* destination;  // absolute, resolved inside the rootfs
  const char* fstype;       // null for bind mounts
  const char* data;         // filesystem options, may be null
  unsigned long flags;      // MS_* flags for the mount itself (not propagation)
  unsigned long propagation;// MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC), or 0
  unsigned long remount;    // for binds: flags to apply by a bind remount (ro, nosuid, ...), or 0
  uint64_t rec_attr_set;    // MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE) once mounted (rro, ...)
  uint64_t rec_attr_clr;
  int tree_fd;              // a detached tree the parent made (open_tree OPEN_TREE_CLONE: an idmapped
                            // mount, or a user-namespaced container's bind source) to attach with
                            // move_mount instead of binding by path; -1: bind by path
  bool bind;
  bool source_is_dir;       // bind of a directory (create a dir), else a file
};

// At most this many detached trees (idmapped mounts and bind sources) are passed as fds; the
// rest of the bind sources are bound by path.
constexpr int kMaxMountTreeFds = 64;

struct DeviceSpec {
  const char* path;         // absolute, inside the container
  mode_t mode;              // S_IFCHR/S_IFBLK/S_IFIFO | permissions
  dev_t dev;
  uid_t uid;
  gid_t gid;
  const char* host_path;    // for bind-creating in a user namespace; may be null
};

struct NsJoin {
  int nstype;               // CLONE_NEW* constant
  int fd;                   // opened by the parent
  const char* path;         // for error messages
};

struct RlimitSpec {
  int resource;
  rlim_t soft;
  rlim_t hard;
  const char* name;
};

struct SysctlSpec {
  const char* path;         // /proc/sys/...
  const char* value;
};

// A hook run from inside the container's namespaces (createContainer, startContainer).
struct HookSpec {
  const char* path;
  const char* const* argv;   // null-terminated
  const char* const* envp;   // null-terminated
  int timeout;               // seconds, 0: none
};

// process.scheduler, as sched_setattr(2) takes it.
struct SchedSpec {
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
  const char* what;           // names it in an error, with a hint where one helps
};

// The kernel attributes of the process (process_attrs.cc): each one applied only if present.
struct ProcessAttrs {
  bool has_sched;
  SchedSpec sched;
  bool has_ioprio;
  int ioprio;                 // IOPRIO_PRIO_VALUE(class, level)
  bool has_personality;
  unsigned long personality;
  bool has_mempolicy;
  int mempolicy_mode;         // mode | MPOL_F_* flags
  const unsigned long* nodemask;
  unsigned long maxnode;
};

struct CapSets {
  uint64_t bounding, effective, permitted, inheritable, ambient;
};

struct LaunchPlan {
  bool exec_mode;             // `exec`: join a running container instead of making one
  unsigned long clone_flags;  // CLONE_NEW* to create at clone
  bool unshare_cgroupns;      // CLONE_NEWCGROUP after the parent placed us in our cgroups
  bool unshare_timens;        // CLONE_NEWTIME by unshare: its offsets can only be set before
                              // a process is in it, and execve enters it (time_for_children)
  const char* time_offsets;   // for /proc/self/timens_offsets, may be null
  NsJoin joins[8];
  int njoins;
  // -1; or the pid namespace a rootless exec joins itself, after the user namespace (the
  // parent may not), and then forks into
  int pid_ns_fd;

  // filesystem
  bool new_mount_ns;          // a mount namespace of its own (made at clone or joined by path)
  bool host_mount_ns;         // none: mounts land in the runtime's, chroot instead of pivot_root
  const char* rootfs;         // absolute host path
  bool rootfs_readonly;
  unsigned long rootfs_propagation;  // of "/" before and after pivot_root; 0: rslave before only
  bool no_pivot;
  const MountSpec* mounts;
  int nmounts;
  bool setup_dev;             // create default devices and /dev symlinks
  const DeviceSpec* devices;
  int ndevices;
  const char* const* masked_paths;
  int nmasked;
  const char* const* readonly_paths;
  int nreadonly;
  const SysctlSpec* sysctls;
  int nsysctls;
  bool in_userns;             // devices are bind-mounted rather than created

  const char* hostname;       // null: leave as is
  const char* domainname;
  const char* keyring_name;   // null: --no-new-keyring

  // process
  ProcessAttrs attrs;
  const RlimitSpec* rlimits;
  int nrlimits;
  bool has_oom_score_adj;
  int oom_score_adj;
  uid_t uid;
  gid_t gid;
  const gid_t* gids;
  int ngids;
  int umask;                  // -1: leave as is
  bool has_caps;
  CapSets caps;
  int cap_last_cap;
  bool no_new_privs;
  const char* apparmor_profile;  // null: none; applied at execve through /proc/self/attr
  const char* selinux_label;
  const char* cwd;
  const char* const* argv;
  const char* const* envp;
  const char* path_env;       // the container's PATH, for resolving argv[0]

  // fds
  int preserve_fds;           // keep 3 .. 3+preserve_fds-1
  int sync_fd;                // child's end of the sync socket
  int state_dirfd;            // O_PATH dir holding exec.fifo
  const char* fifo_name;

  // hooks in the container namespace; their stdin is the state JSON the parent wrote to
  // hook_state_name in the state directory
  const HookSpec* create_container_hooks;
  int ncreate_container_hooks;
  const HookSpec* start_container_hooks;
  int nstart_container_hooks;
  const char* hook_state_name;

  // terminal: the pty is made in the container's devpts, its master sent as SCM_RIGHTS over
  // console_fd (connected to the --console-socket by the parent), the slave becomes stdio.
  bool terminal;
  int console_fd;
  unsigned short console_rows, console_cols;

  // seccomp (a finished BPF program, compiled in the parent), may be empty
  const void* seccomp_filter;  // struct sock_filter[]
  unsigned short seccomp_len;
  unsigned int seccomp_flags;
  // SCMP_ACT_NOTIFY: the listener fd goes to the agent over this connected socket, with the
  // container's process state (written by the parent to seccomp_state_name in the state dir
  // before GO, read by the child right after GO) as payload.
  int seccomp_listener_sock;
  const char* seccomp_state_name;
};

// Makes the pty in the container's devpts, binds it over /dev/console, sends the master over
// plan.console_fd. Returns the slave fd. (mounts.cc)
int setup_terminal(const LaunchPlan& plan, int root_fd);

// The time namespace of a new container: unshared, its clocks offset (process_attrs.cc).
void enter_time_namespace(const LaunchPlan& plan);

// I/O priority and memory policy of the process (process_attrs.cc).
void apply_process_attrs(const LaunchPlan& plan);
// Personality and scheduler (process_attrs.cc): with the last steps, since a deadline task
// cannot fork and hooks keep the runtime's personality.
void apply_exec_attrs(const LaunchPlan& plan);

// Runs the container init in the freshly cloned child. Never returns.
[[noreturn]] void child_main(const LaunchPlan& plan);

}  // namespace skiff
