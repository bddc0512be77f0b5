// The container init: everything between clone and execve (design.md section 1).
// Runs in the cloned child of a multi-threaded process: raw syscalls and the parent's
// prebuilt plan only. Every failure is reported over the sync socket as data.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child_util.h"
#include "mounts.h"
#include "plan.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace skiff {

int g_sync_fd = -1;
bool g_ready = false;

namespace {

// Closes every fd but stdio, the preserved ones and those the init still needs, so nothing
// of Node's (epoll, eventfds, pipes a client waits on) reaches the container.
void close_inherited_fds(const LaunchPlan& plan) {
  // static: not on the child's stack. 4 + 8 joins + a pid namespace + the detached trees.
  static int keep[16 + kMaxMountTreeFds];
  const int cap = (int)(sizeof keep / sizeof keep[0]);
  int n = 0;
  keep[n++] = plan.sync_fd;
  if (plan.state_dirfd >= 0) keep[n++] = plan.state_dirfd;
  if (plan.console_fd >= 0) keep[n++] = plan.console_fd;
  if (plan.seccomp_listener_sock >= 0) keep[n++] = plan.seccomp_listener_sock;
  for (int i = 0; i < plan.njoins && n < cap; i++) keep[n++] = plan.joins[i].fd;
  if (plan.pid_ns_fd >= 0 && n < cap) keep[n++] = plan.pid_ns_fd;
  for (int i = 0; i < plan.nmounts && n < cap; i++)
    if (plan.mounts[i].tree_fd >= 0) keep[n++] = plan.mounts[i].tree_fd;
  for (int i = 1; i < n; i++)  // insertion sort: a few dozen entries at most
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) { int t = keep[j]; keep[j] = keep[j - 1]; keep[j - 1] = t; }
  unsigned int next = 3 + (unsigned int)plan.preserve_fds;
  for (int i = 0; i < n; i++) {
    unsigned int k = (unsigned int)keep[i];
    if (k < next) continue;
    if (k > next) syscall(SYS_close_range, next, k - 1, 0);
    next = k + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
  // What the container is meant to have must survive execve even if our caller (or Node)
  // marked it close-on-exec.
  for (int fd = 0; fd < 3 + plan.preserve_fds; fd++) fcntl(fd, F_SETFD, 0);
}

void join_namespaces(const LaunchPlan& plan) {
  // The user namespace first: it owns the others and decides what we may join.
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < plan.njoins; i++) {
      const NsJoin& j = plan.joins[i];
      if ((j.nstype == CLONE_NEWUSER) != (pass == 0)) continue;
      if (setns(j.fd, j.nstype) != 0) fail("join namespace", errno, j.path);
      close(j.fd);
    }
  }
}

// A rootless exec (addon.cc): the parent could not enter the container's pid namespace, so the
// child does, after its user namespace, and forks. The grandchild, made the runtime's own child
// (CLONE_PARENT), is the container's process; the middle one sends its pid and exits. The
// grandchild waits for that (EOF on a pipe) so SYNC_PID is the first message the parent reads.
void enter_pid_ns_by_fork(const LaunchPlan& plan) {
  if (setns(plan.pid_ns_fd, CLONE_NEWPID) != 0) fail("join pid namespace", errno);
  close(plan.pid_ns_fd);
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) fail("pipe", errno);
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) fail("fork into the pid namespace", errno);
  if (pid > 0) {
    sync_send(plan.sync_fd, SYNC_PID, (int)pid, "", "");
    _exit(0);
  }
  close(gate[1]);
  char c;
  while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
  close(gate[0]);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // its parent is the runtime now
}

void set_identity_in_userns() {
  if (raw_setresgid(0) != 0) fail("setresgid 0 in user namespace", errno);
  if (raw_setresuid(0) != 0) fail("setresuid 0 in user namespace", errno);
}

void write_file(const char* path, const char* value, const char* step) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(step, errno, path);
  size_t len = strlen(value);
  if (write(fd, value, len) != (ssize_t)len) fail(step, errno, path);
  close(fd);
}

void apply_rlimits(const LaunchPlan& plan) {
  for (int i = 0; i < plan.nrlimits; i++) {
    struct rlimit rl = {plan.rlimits[i].soft, plan.rlimits[i].hard};
    if (setrlimit(plan.rlimits[i].resource, &rl) != 0) fail("setrlimit", errno, plan.rlimits[i].name);
  }
}

// Finds argv[0] on the container's PATH, as execvp would, before the container is reported
// ready: a missing or non-executable binary is a create error, as with runc's exec.LookPath
// (whose rules and errnos these are: a directory or a file without x bits is EACCES).
void resolve_executable(const LaunchPlan& plan, char (&out)[4096]) {
  const char* name = plan.argv[0];
  struct stat st;
  if (strchr(name, '/')) {
    copy_str(out, sizeof out, name);
    if (stat(out, &st) != 0) fail("exec: stat", errno, name);
    if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111)) fail("exec", EACCES, name);
    return;
  }
  const char* p = plan.path_env ? plan.path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (true) {
    const char* colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    if (len == 0) copy_str(out, sizeof out, ".");
    else copy_str(out, len + 1 < sizeof out ? len + 1 : sizeof out, p);
    append_str(out, sizeof out, "/");
    append_str(out, sizeof out, name);
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) return;
    if (!colon) break;
    p = colon + 1;
  }
  fail("exec: executable file not found in $PATH", 0, name);  // the words say it all
}

void wait_for_start(const LaunchPlan& plan) {
  // Blocks until `skiff start` opens the fifo for reading. The fifo is reached through a
  // directory fd taken before pivot_root, so the container needs no /proc for this.
  int fd;
  do { fd = openat(plan.state_dirfd, plan.fifo_name, O_WRONLY | O_CLOEXEC); } while (fd < 0 && errno == EINTR);
  if (fd < 0) _exit(126);
  if (write(fd, "0", 1) != 1) _exit(126);
  // Left open, close-on-exec: `start` reads EOF when execve (or death) closes it, so its
  // poststart hooks run after the user process began, and after every startContainer hook.
}

// What the agent receives with the notify listener: the process state JSON the parent wrote
// to the state dir before GO. Read right after GO, while we are still the runtime's root
// outside every namespace (a 0700 state dir, a user switch or a filter covering openat/read
// would stop a later read).
char g_agent_payload[65536];  // static: the child must not grow its stack by 64k
ssize_t g_agent_payload_len = 0;

void read_agent_payload(const LaunchPlan& plan) {
  if (plan.seccomp_listener_sock < 0) return;
  int f = openat(plan.state_dirfd, plan.seccomp_state_name, O_RDONLY | O_CLOEXEC);
  if (f < 0) fail("open seccomp agent state", errno);
  g_agent_payload_len = read(f, g_agent_payload, sizeof g_agent_payload);
  close(f);
  if (g_agent_payload_len <= 0) fail("read seccomp agent state", g_agent_payload_len < 0 ? errno : EINVAL);
}

// `trial`: no listener is asked for (a notify filter then answers ENOSYS instead of waiting
// on an agent that is not there) and none is sent. Otherwise the listener goes to the agent
// in the very next syscall after the filter (one message, the state as payload, the fd as
// SCM_RIGHTS: runc's protocol, "fds": ["seccompFd"]): any call the filter notifies from here
// on has an agent to answer it, as in runc. sendmsg itself is never notified (runc refuses
// notify on write; sendmsg is not write).
void load_seccomp(const LaunchPlan& plan, bool trial) {
  struct sock_fprog prog;
  prog.len = plan.seccomp_len;
  prog.filter = (struct sock_filter*)plan.seccomp_filter;
  bool notify = plan.seccomp_listener_sock >= 0 && !trial;
  unsigned int flags = plan.seccomp_flags;
  if (notify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0) fail("load seccomp filter", errno);
  if (!notify) return;
  if (send_fd(plan.seccomp_listener_sock, (int)r, g_agent_payload, (size_t)g_agent_payload_len) != 0)
    fail("send seccomp listener to the agent", errno);
  close((int)r);
  close(plan.seccomp_listener_sock);
}

// runc's fixStdioPermissions: stdio (the pty of a terminal container or exec -t, or whatever
// the caller handed over) is given to the process's uid before we become it, so a non-root
// process can use its own terminal. Only the uid: the gid stays (devpts' gid=5, tty). Skipped
// for /dev/null and for what the user namespace cannot change (EINVAL, EPERM, EROFS).
void give_stdio_to_user(const LaunchPlan& plan) {
  struct stat null_st, st;
  bool have_null = stat("/dev/null", &null_st) == 0;
  for (int fd = 0; fd < 3; fd++) {
    if (fstat(fd, &st) != 0) fail("stat stdio", errno);
    if (st.st_uid == plan.uid || (have_null && S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev)) continue;
    if (fchown(fd, plan.uid, st.st_gid) != 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
      fail("chown stdio to the process user", errno);
  }
}

void apply_user_and_caps(const LaunchPlan& plan) {
  if (plan.has_caps) {
    // The bounding set can only shrink while CAP_SETPCAP is still ours.
    for (int c = 0; c <= plan.cap_last_cap; c++) {
      if (plan.caps.bounding & (1ULL << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) fail("drop bounding capability", errno);
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail("set keepcaps", errno);
  }
  if (raw_setgroups((size_t)plan.ngids, plan.gids) != 0 && !(plan.ngids == 0 && errno == EPERM))
    fail("setgroups", errno);
  if (raw_setresgid(plan.gid) != 0) fail("setresgid", errno);
  if (raw_setresuid(plan.uid) != 0) fail("setresuid", errno);
  if (!plan.has_caps) return;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail("clear keepcaps", errno);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t)plan.caps.effective;
  data[1].effective = (uint32_t)(plan.caps.effective >> 32);
  data[0].permitted = (uint32_t)plan.caps.permitted;
  data[1].permitted = (uint32_t)(plan.caps.permitted >> 32);
  data[0].inheritable = (uint32_t)plan.caps.inheritable;
  data[1].inheritable = (uint32_t)(plan.caps.inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) fail("capset", errno);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    fail("clear ambient capabilities", errno);
  // The kernel only lets a capability be ambient if it is permitted and inheritable. runc's
  // default spec lists ambient caps without inheritable ones and runc skips them: so do we.
  uint64_t raisable = plan.caps.ambient & plan.caps.permitted & plan.caps.inheritable;
  for (int c = 0; c <= plan.cap_last_cap; c++) {
    if (!(raisable & (1ULL << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) fail("raise ambient capability", errno);
  }
}

// Runs hooks from inside the container's namespaces: a raw fork (no atfork handlers, no
// locks), the state JSON on stdin, a pidfd to wait with the hook's timeout. `cwd_fd`: the
// hook's working directory (createContainer hooks get the rootfs, as in runc, whose init has
// chdir'ed there by then), or -1 for ours.
void run_hooks(const LaunchPlan& plan, const HookSpec* hooks, int n, const char* kind, int cwd_fd = -1) {
  for (int i = 0; i < n; i++) {
    const HookSpec& h = hooks[i];
    int in = openat(plan.state_dirfd, plan.hook_state_name, O_RDONLY | O_CLOEXEC);
    if (in < 0) fail("open hook state", errno, kind);
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) fail("fork hook", errno, h.path);
    if (pid == 0) {
      dup2(in, 0);
      if (cwd_fd >= 0 && fchdir(cwd_fd) != 0) _exit(127);
      execve(h.path, (char* const*)h.argv, (char* const*)h.envp);
      _exit(127);
    }
    close(in);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      int r;
      do { r = poll(&p, 1, h.timeout > 0 ? h.timeout * 1000 : -1); } while (r < 0 && errno == EINTR);
      close(pidfd);
      if (r == 0) {
        kill((pid_t)pid, SIGKILL);
        int st;
        waitpid((pid_t)pid, &st, 0);
        char step[64];
        copy_str(step, sizeof step, kind);
        append_str(step, sizeof step, " hook timed out");
        fail(step, ETIMEDOUT, h.path);
      }
    }
    int status = 0;
    pid_t w;
    do { w = waitpid((pid_t)pid, &status, 0); } while (w < 0 && errno == EINTR);
    if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      char step[64];
      copy_str(step, sizeof step, kind);
      append_str(step, sizeof step, " hook failed");
      fail(step, 0, h.path);
    }
  }
}

[[noreturn]] void exec_failed(const char* path, int err) {
  // The parent may be gone by now: say it on the container's stderr, as runc does.
  char msg[4352];
  copy_str(msg, sizeof msg, "skiff: exec ");
  append_str(msg, sizeof msg, path);
  append_str(msg, sizeof msg, ": ");
  const char* desc = strerrordesc_np(err);
  append_str(msg, sizeof msg, desc ? desc : "error");
  append_str(msg, sizeof msg, "\n");
  ssize_t ignored = write(2, msg, strlen(msg));
  (void)ignored;
  _exit(err == ENOENT ? 127 : 126);
}

// Node ignores SIGPIPE and libuv installs handlers and masks; ignored signals would survive
// execve, so the container starts from the defaults instead.
void reset_signals() {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The steps that turn the init into the container's process: seccomp, user, capabilities,
// no_new_privs, umask, LSM labels. They run after `start` (startContainer hooks and the fifo
// need the runtime's identity), so each is first tried in a throwaway fork before READY:
// whatever the kernel refuses (a capability outside the host's bounding set, a filter it
// rejects, an id the user namespace lacks) then fails `create`, as it does in runc.
void become_process(const LaunchPlan& plan, bool trial) {
  bool have_seccomp = plan.seccomp_len > 0;
  apply_exec_attrs(plan);  // a realtime policy needs CAP_SYS_NICE: before the drop
  if (have_seccomp && !plan.no_new_privs) load_seccomp(plan, trial);  // needs CAP_SYS_ADMIN
  if (!trial) give_stdio_to_user(plan);
  apply_user_and_caps(plan);
  if (plan.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("set no_new_privs", errno);
  umask(plan.umask >= 0 ? plan.umask : 022);
  // LSM labels take effect at execve: written to the exec attribute of the container's /proc.
  if (plan.apparmor_profile) {
    char v[512];
    copy_str(v, sizeof v, "exec ");
    append_str(v, sizeof v, plan.apparmor_profile);
    int fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);
    if (fd < 0) fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, v, strlen(v)) < 0) fail("set apparmor profile", errno, plan.apparmor_profile);
    close(fd);
  }
  if (plan.selinux_label) write_file("/proc/self/attr/exec", plan.selinux_label, "set selinux label");
  if (have_seccomp && plan.no_new_privs) load_seccomp(plan, trial);
}

void try_become_process(const LaunchPlan& plan) {
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) fail("fork to try the process setup", errno);
  if (pid == 0) {
    become_process(plan, true);
    _exit(0);
  }
  int status = 0;
  pid_t w;
  do { w = waitpid((pid_t)pid, &status, 0); } while (w < 0 && errno == EINTR);
  if (w < 0) fail("wait for the process setup trial", errno);
  // Exit 1: the trial sent the ERROR itself. A signal means it got past every step (a filter
  // may kill exit_group itself).
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) _exit(1);
}

}  // namespace

void child_main(const LaunchPlan& plan) {
  reset_signals();
  g_sync_fd = plan.sync_fd;
  close_inherited_fds(plan);
  // Until the container is ready, its setup must not outlive the runtime that drives it.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Not dumpable: nothing in the container may reach our memory or fds through /proc. In a
  // new user namespace only after GO: until then its /proc/PID/{uid,gid}_map must stay the
  // caller's to write, which a rootless caller cannot do to a non-dumpable (root-owned)
  // process; runc does the same. Nothing else is in the namespace before GO.
  bool new_userns = (plan.clone_flags & CLONE_NEWUSER) != 0;
  if (!new_userns) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  umask(0);
  if (!sync_expect(plan.sync_fd, SYNC_GO)) _exit(1);
  if (new_userns) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  read_agent_payload(plan);

  join_namespaces(plan);
  // Before the identity changes: /proc/self/timens_offsets is root's (we are not dumpable),
  // and only the host uid we still have may open it.
  if (plan.unshare_timens) enter_time_namespace(plan);
  if (plan.in_userns) set_identity_in_userns();
  if (plan.pid_ns_fd >= 0) enter_pid_ns_by_fork(plan);
  // exec into a container without a mount namespace of its own: its root is a chroot in the
  // runtime's namespace, entered as the init entered it (never the host's "/").
  if (plan.exec_mode && plan.host_mount_ns && (chroot(plan.rootfs) != 0 || chdir("/") != 0))
    fail("chroot into the container's rootfs", errno, plan.rootfs);
  if (plan.unshare_cgroupns && unshare(CLONE_NEWCGROUP) != 0) fail("unshare cgroup namespace", errno);
  if (!plan.exec_mode && plan.hostname && sethostname(plan.hostname, strlen(plan.hostname)) != 0)
    fail("sethostname", errno, plan.hostname);
  if (!plan.exec_mode && plan.domainname && setdomainname(plan.domainname, strlen(plan.domainname)) != 0)
    fail("setdomainname", errno, plan.domainname);
  if (plan.keyring_name && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, plan.keyring_name) < 0 &&
      errno != ENOSYS && errno != EACCES)
    fail("join session keyring", errno);
  if (plan.has_oom_score_adj) {
    char v[24];
    format_int(v, sizeof v, plan.oom_score_adj);
    write_file("/proc/self/oom_score_adj", v, "set oom_score_adj");
  }
  apply_rlimits(plan);
  apply_process_attrs(plan);

  int root_fd = !plan.exec_mode && (plan.new_mount_ns || plan.host_mount_ns) ? prepare_rootfs(plan) : -1;
  int pty = -1;
  if (plan.terminal) {
    // exec: the joined mount namespace's root is the container's; its devpts is there.
    int tty_root = root_fd >= 0 ? root_fd : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    pty = setup_terminal(plan, tty_root);
    if (root_fd < 0) close(tty_root);
  }
  if (root_fd >= 0) {
    remount_dev_readonly(plan, root_fd);
    sync_send(plan.sync_fd, SYNC_CREATE_RUNTIME, 0, "", "");
    if (!sync_expect(plan.sync_fd, SYNC_HOOKS_DONE)) _exit(1);
    run_hooks(plan, plan.create_container_hooks, plan.ncreate_container_hooks, "createContainer", root_fd);
    enter_rootfs(plan, root_fd);
  }
  if (pty >= 0) {
    // The pty becomes the controlling terminal of a new session and the process's stdio.
    if (setsid() < 0) fail("setsid", errno);
    if (ioctl(pty, TIOCSCTTY, 0) != 0) fail("set controlling terminal", errno);
    for (int fd = 0; fd < 3; fd++)
      if (dup2(pty, fd) < 0) fail("dup pty to stdio", errno);
    if (pty > 2) close(pty);
  }
  if (plan.cwd && chdir(plan.cwd) != 0) fail("chdir to cwd", errno, plan.cwd);
  // CVE-2024-21626 class: the cwd must be inside the container's root.
  char cwd[4096];
  if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0 || cwd[0] != '/') fail("cwd is outside the container root", EPERM, plan.cwd);
  char exe[4096];
  resolve_executable(plan, exe);

  if (!plan.exec_mode) try_become_process(plan);
  sync_send(plan.sync_fd, SYNC_READY, 0, "", "");
  if (plan.exec_mode) {
    // exec: the parent still listens; a failure below is an ERROR, success is EOF at execve.
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  } else {
    // Until the runtime has recorded the container, its death (kill -9) must take the init
    // with it: a created container is never left that no state.json names.
    if (!sync_expect(plan.sync_fd, SYNC_COMMIT)) _exit(1);
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    close(plan.sync_fd);  // EOF tells the runtime the init outlives it from here on
    g_ready = true;
    wait_for_start(plan);
  }
  run_hooks(plan, plan.start_container_hooks, plan.nstart_container_hooks, "startContainer");
  become_process(plan, false);
  if (plan.state_dirfd >= 0) close(plan.state_dirfd);
  execve(exe, (char* const*)plan.argv, (char* const*)plan.envp);
  exec_failed(exe, errno);
}

}  // namespace skiff
