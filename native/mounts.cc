#include "mounts.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "child_util.h"
#include "mount_attrs.h"

namespace skiff {

namespace {

constexpr unsigned long kLockedFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;

// statfs f_flags use the same bits as MS_* for these.
unsigned long mount_flags_of(int fd) {
  struct statfs st;
  if (fstatfs(fd, &st) != 0) return 0;
  return (unsigned long)st.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY |
                                      MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
}

// Splits "/a/b/c" into the parent "/a/b" and the last component "c".
void split_path(const char* path, char (&parent)[4096], char (&name)[256]) {
  copy_str(parent, sizeof parent, path);
  size_t len = strnlen(parent, sizeof parent);
  while (len > 1 && parent[len - 1] == '/') parent[--len] = 0;
  char* slash = strrchr(parent, '/');
  if (!slash) {
    copy_str(name, sizeof name, parent);
    copy_str(parent, sizeof parent, "/");
    return;
  }
  copy_str(name, sizeof name, slash + 1);
  if (slash == parent) parent[1] = 0; else *slash = 0;
}

// Opens the mount target inside the root, creating it (a directory, or an empty file for
// file binds) when it is missing. Returns an O_PATH fd.
int open_target(int root_fd, const char* dest, bool want_dir) {
  int fd = open_in_root(root_fd, dest, O_PATH | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (want_dir) {
    if (mkdir_all_in_root(root_fd, dest, 0755) != 0) return -1;
  } else {
    char parent[4096], name[256];
    split_path(dest, parent, name);
    if (mkdir_all_in_root(root_fd, parent, 0755) != 0) return -1;
    int pfd = open_in_root(root_fd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) return -1;
    int f = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    int saved = errno;
    close(pfd);
    if (f < 0 && saved != EEXIST) { errno = saved; return -1; }
    if (f >= 0) close(f);
  }
  return open_in_root(root_fd, dest, O_PATH | O_CLOEXEC);
}

[[noreturn]] void fail_mount(const char* what, const char* dest) {
  int err = errno;
  char step[64];
  copy_str(step, sizeof step, what);
  fail(step, err, dest);
}

void apply_propagation(const char* target, unsigned long propagation, const char* dest) {
  if (!propagation) return;
  if (mount(nullptr, target, nullptr, propagation, nullptr) != 0) fail_mount("set mount propagation", dest);
}

// A bind remount that keeps the flags the kernel locks in a user namespace.
int bind_remount(const char* target, int fd, unsigned long flags) {
  unsigned long keep = mount_flags_of(fd) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | flags | keep, nullptr) == 0) return 0;
  return -1;
}

bool is_readonly_dev(const MountSpec& m) {
  return !m.bind && (m.flags & MS_RDONLY) && strcmp(m.destination, "/dev") == 0;
}

void do_mount(int root_fd, const MountSpec& m) {
  if (!m.bind && m.fstype && (strcmp(m.fstype, "proc") == 0 || strcmp(m.fstype, "sysfs") == 0)) {
    // CVE-2019-19921 class: never mount procfs/sysfs through a planted symlink.
    int lfd = open_in_root(root_fd, m.destination, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (lfd >= 0) {
      struct stat st;
      bool is_link = fstat(lfd, &st) == 0 && S_ISLNK(st.st_mode);
      bool is_dir = S_ISDIR(st.st_mode);
      close(lfd);
      // runc's words, which its users match: "filesystem "proc" must be mounted on ordinary directory".
      bool proc = strcmp(m.fstype, "proc") == 0;
      const char* why = proc ? "filesystem \"proc\" must be mounted on ordinary directory" : "filesystem \"sysfs\" must be mounted on ordinary directory";
      if (is_link) fail(why, ELOOP, m.destination);
      if (!is_dir) fail(why, ENOTDIR, m.destination);
    }
  }
  int tfd = open_target(root_fd, m.destination, m.bind ? m.source_is_dir : true);
  if (tfd < 0) fail_mount("create mount destination", m.destination);
  char target[40];
  fd_path(target, tfd);
  if (m.bind) {
    if (m.tree_fd >= 0) {
      // The tree the parent made: an idmapped mount, or a bind source cloned on the host side.
      if (attach_tree(m, tfd) != 0) {
        close(tfd);
        fail_mount("attach mount (move_mount)", m.destination);
      }
      close(m.tree_fd);
    } else if (mount(m.source, target, nullptr, MS_BIND | (m.flags & MS_REC), nullptr) != 0) {
      close(tfd);
      fail_mount("bind mount", m.destination);
    }
    close(tfd);
    if (m.remount || m.propagation) {
      // The old fd names the covered inode; the remount must name the new mount.
      tfd = open_in_root(root_fd, m.destination, O_PATH | O_CLOEXEC);
      if (tfd < 0) fail_mount("reopen bind mount", m.destination);
      fd_path(target, tfd);
      if (m.remount && bind_remount(target, tfd, m.remount) != 0) fail_mount("remount bind mount", m.destination);
      apply_propagation(target, m.propagation, m.destination);
      close(tfd);
    }
    apply_recursive_attrs(root_fd, m);
    return;
  }
  // A read-only /dev is made writable first: /dev/pts, the devices, the symlinks and the
  // console go in it, and remount_dev_readonly closes it last (runc's order).
  unsigned long flags = is_readonly_dev(m) ? m.flags & ~MS_RDONLY : m.flags;
  if (mount(m.source ? m.source : m.fstype, target, m.fstype, flags, m.data) != 0) {
    char step[64];
    copy_str(step, sizeof step, "mount ");
    append_str(step, sizeof step, m.fstype);
    int err = errno;
    close(tfd);
    fail(step, err, m.destination);
  }
  close(tfd);
  if (m.propagation) {
    tfd = open_in_root(root_fd, m.destination, O_PATH | O_CLOEXEC);
    if (tfd < 0) fail_mount("reopen mount", m.destination);
    fd_path(target, tfd);
    apply_propagation(target, m.propagation, m.destination);
    close(tfd);
  }
  apply_recursive_attrs(root_fd, m);
}

void make_device(int root_fd, const DeviceSpec& d, bool in_userns) {
  char parent[4096], name[256];
  split_path(d.path, parent, name);
  if (mkdir_all_in_root(root_fd, parent, 0755) != 0) fail_mount("create device directory", d.path);
  int pfd = open_in_root(root_fd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) fail_mount("open device directory", d.path);
  if (in_userns) {
    // mknod is not allowed in a user namespace: bind the host's node instead.
    int f = openat(pfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0) fail_mount("create device bind target", d.path);
    close(f);
    int tfd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0) fail_mount("open device bind target", d.path);
    char target[40];
    fd_path(target, tfd);
    if (mount(d.host_path ? d.host_path : d.path, target, nullptr, MS_BIND, nullptr) != 0)
      fail_mount("bind device", d.path);
    close(tfd);
  } else {
    if (mknodat(pfd, name, d.mode, d.dev) != 0) {
      if (errno != EEXIST) fail_mount("mknod", d.path);
    } else {
      if (fchmodat(pfd, name, d.mode & 07777, 0) != 0) fail_mount("chmod device", d.path);
      if (fchownat(pfd, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0) fail_mount("chown device", d.path);
    }
  }
  close(pfd);
}

void setup_dev(const LaunchPlan& plan, int root_fd) {
  for (int i = 0; i < plan.ndevices; i++) make_device(root_fd, plan.devices[i], plan.in_userns);
  int dev = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dev < 0) fail_mount("open /dev", "/dev");
  static const char* const links[][2] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"}};
  // /dev/core only where the kernel has a kcore (runc's rule); the host's /proc is still ours.
  bool kcore = access("/proc/kcore", F_OK) == 0;
  for (auto& l : links) {
    if (!kcore && strcmp(l[1], "core") == 0) continue;
    if (symlinkat(l[0], dev, l[1]) != 0 && errno != EEXIST) fail_mount("create /dev symlink", l[1]);
  }
  // /dev/ptmx must be the devpts instance's multiplexer, not the host's.
  if (unlinkat(dev, "ptmx", 0) != 0 && errno != ENOENT) fail_mount("remove /dev/ptmx", "/dev/ptmx");
  if (symlinkat("pts/ptmx", dev, "ptmx") != 0) fail_mount("create /dev/ptmx symlink", "/dev/ptmx");
  close(dev);
}

void mask_paths(const LaunchPlan& plan, int root_fd) {
  if (plan.nmasked == 0) return;
  // CVE-2025-31133 class: the node bound over masked files is verified by fd to be a real
  // /dev/null (char 1:3), never a path the container planted. The container's own (as runc
  // uses) if it is one, else the host's.
  struct stat st;
  auto is_null = [&st](int fd) {
    return fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
  };
  int null_fd = open_in_root(root_fd, "/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (!is_null(null_fd)) {
    if (null_fd >= 0) close(null_fd);
    null_fd = open("/dev/null", O_PATH | O_CLOEXEC);
    if (!is_null(null_fd)) fail("verify /dev/null", errno ? errno : EINVAL, "/dev/null");
  }
  char source[40];
  fd_path(source, null_fd);
  for (int i = 0; i < plan.nmasked; i++) {
    const char* p = plan.masked_paths[i];
    // A symlink is followed, as runc's mount(2) after pivot_root does, so what it names in the
    // container is what gets hidden; RESOLVE_IN_ROOT keeps that inside the container root.
    int fd = open_in_root(root_fd, p, O_PATH | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      fail_mount("open masked path", p);
    }
    char target[40];
    fd_path(target, fd);
    if (fstat(fd, &st) != 0) fail_mount("stat masked path", p);
    int r;
    if (S_ISDIR(st.st_mode)) r = mount("tmpfs", target, "tmpfs", MS_RDONLY, nullptr);
    else r = mount(source, target, nullptr, MS_BIND, nullptr);
    if (r != 0) fail_mount("mask path", p);
    close(fd);
  }
  close(null_fd);
}

void readonly_paths(const LaunchPlan& plan, int root_fd) {
  for (int i = 0; i < plan.nreadonly; i++) {
    const char* p = plan.readonly_paths[i];
    // Followed inside the root, as for masked paths: the target is what becomes read-only.
    int fd = open_in_root(root_fd, p, O_PATH | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      fail_mount("open readonly path", p);
    }
    char target[40];
    fd_path(target, fd);
    if (mount(target, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) fail_mount("bind readonly path", p);
    close(fd);
    fd = open_in_root(root_fd, p, O_PATH | O_CLOEXEC);
    if (fd < 0) fail_mount("reopen readonly path", p);
    fd_path(target, fd);
    if (bind_remount(target, fd, MS_RDONLY) != 0) fail_mount("remount readonly path", p);
    close(fd);
  }
}

}  // namespace

int open_in_root(int root_fd, const char* path, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)flags;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long r;
  do { r = syscall(SYS_openat2, root_fd, path, &how, sizeof how); } while (r < 0 && errno == EAGAIN);
  return (int)r;
}

int mkdir_all_in_root(int root_fd, const char* path, mode_t mode) {
  char buf[4096];
  copy_str(buf, sizeof buf, path);
  size_t len = strnlen(buf, sizeof buf);
  // Walk prefixes "/a", "/a/b", ...: each is resolved from the root, so a symlink planted in
  // the rootfs is followed inside it and never out of it.
  for (size_t i = 1; i <= len; i++) {
    if (i != len && buf[i] != '/') continue;
    char saved = buf[i];
    buf[i] = 0;
    int fd = open_in_root(root_fd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
    } else if (errno == ENOENT) {
      char parent[4096], name[256];
      split_path(buf, parent, name);
      int pfd = open_in_root(root_fd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (pfd < 0) return -1;
      int r = mkdirat(pfd, name, mode);
      int err = errno;
      close(pfd);
      if (r != 0 && err != EEXIST) { errno = err; return -1; }
    } else {
      return -1;
    }
    buf[i] = saved;
  }
  return 0;
}

// The mount holding the rootfs becomes private (runc's rootfsParentMountPrivate): pivot_root
// refuses a shared parent, and a bind under a shared mount would propagate out of the
// container's namespace. Walks up from the rootfs: EINVAL means "not a mount point".
void make_rootfs_parent_private(const char* rootfs) {
  char path[4096];
  copy_str(path, sizeof path, rootfs);
  while (mount(nullptr, path, nullptr, MS_PRIVATE, nullptr) != 0) {
    if (errno != EINVAL || strcmp(path, "/") == 0) fail_mount("make the rootfs's parent mount private", path);
    char* slash = strrchr(path, '/');
    if (slash == path) path[1] = 0; else *slash = 0;
  }
}

int prepare_rootfs(const LaunchPlan& plan) {
  // runc's order: "/" gets the configured propagation (rslave by default), the rootfs's
  // parent mount is made private, the rootfs is bound onto itself (pivot_root needs a mount
  // of its own); the configured propagation is applied again to the new "/" after pivot_root.
  // In the runtime's own mount namespace none of it is done: it would change the host's.
  if (!plan.host_mount_ns) {
    unsigned long propagation = plan.rootfs_propagation ? plan.rootfs_propagation : MS_SLAVE | MS_REC;
    if (mount(nullptr, "/", nullptr, propagation, nullptr) != 0) fail_mount("set rootfs propagation", "/");
    make_rootfs_parent_private(plan.rootfs);
    if (mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0)
      fail_mount("bind mount rootfs", plan.rootfs);
  }
  int root_fd = open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) fail_mount("open rootfs", plan.rootfs);
  for (int i = 0; i < plan.nmounts; i++) do_mount(root_fd, plan.mounts[i]);
  if (plan.setup_dev) setup_dev(plan, root_fd);
  if (plan.cwd && mkdir_all_in_root(root_fd, plan.cwd, 0755) != 0) fail_mount("create cwd", plan.cwd);
  // Sysctls go in through the container's own /proc, before readonlyPaths close /proc/sys.
  for (int i = 0; i < plan.nsysctls; i++) {
    int fd = open_in_root(root_fd, plan.sysctls[i].path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail_mount("write sysctl", plan.sysctls[i].path);
    size_t len = strlen(plan.sysctls[i].value);
    if (write(fd, plan.sysctls[i].value, len) != (ssize_t)len) fail_mount("write sysctl", plan.sysctls[i].path);
    close(fd);
  }
  mask_paths(plan, root_fd);
  readonly_paths(plan, root_fd);
  return root_fd;
}

void remount_dev_readonly(const LaunchPlan& plan, int root_fd) {
  for (int i = 0; i < plan.nmounts; i++) {
    const MountSpec& m = plan.mounts[i];
    if (!is_readonly_dev(m)) continue;
    int fd = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail_mount("open /dev", "/dev");
    char target[40];
    fd_path(target, fd);
    if (mount(nullptr, target, nullptr, MS_REMOUNT | m.flags, nullptr) != 0) fail_mount("remount /dev read-only", "/dev");
    close(fd);
  }
}

namespace {

// Undoes mountinfo's octal escapes (\040 for a space, ...) in place.
void unescape_mountinfo(char* p) {
  char* out = p;
  while (*p) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
      *out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 4;
    } else {
      *out++ = *p++;
    }
  }
  *out = 0;
}

// The n-th (0-based) space-separated field of `line`, NUL-terminated in place.
char* field(char* line, int n) {
  for (int i = 0; i < n && line; i++) {
    line = strchr(line, ' ');
    if (line) line++;
  }
  if (!line) return nullptr;
  char* end = strchr(line, ' ');
  if (end) *end = 0;
  return line;
}

// --no-pivot leaves the host's mounts in the container's mount namespace, under the chroot.
// runc's msMoveRoot: every full procfs and sysfs mount outside the rootfs is detached (or,
// where the user namespace locks it, covered with a tmpfs) before the move, so none of them
// can be reached, and none makes a fresh proc or sysfs mount look harmless to the kernel
// (mount_too_revealing).
void hide_host_proc_and_sys(const LaunchPlan& plan) {
  static char info[4 << 20];  // static: not on the child's stack
  static char* found[256];
  int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_mount("open mountinfo", "/proc/self/mountinfo");
  size_t len = 0;
  ssize_t r;
  while (len < sizeof info - 1 && (r = read(fd, info + len, sizeof info - 1 - len)) != 0) {
    if (r < 0) { if (errno == EINTR) continue; fail_mount("read mountinfo", "/proc/self/mountinfo"); }
    len += (size_t)r;
  }
  close(fd);
  if (len >= sizeof info - 1) fail("read mountinfo", EFBIG, "/proc/self/mountinfo");
  info[len] = 0;
  size_t rootlen = strlen(plan.rootfs);
  int n = 0;
  for (char* line = info; line && *line && n < 256;) {
    char* next = strchr(line, '\n');
    if (next) *next++ = 0;
    // "id parent dev root mountpoint options [optional...] - fstype source superoptions"
    char* sep = strstr(line, " - ");
    char* fstype = sep ? field(sep + 3, 0) : nullptr;
    if (sep) *sep = 0;
    char* root = field(line, 3);
    char* mp = root ? field(root + strlen(root) + 1, 0) : nullptr;
    if (fstype && mp && strcmp(root, "/") == 0 && (strcmp(fstype, "proc") == 0 || strcmp(fstype, "sysfs") == 0)) {
      unescape_mountinfo(mp);
      bool inside = strncmp(mp, plan.rootfs, rootlen) == 0 && (mp[rootlen] == 0 || mp[rootlen] == '/');
      if (!inside) found[n++] = mp;
    }
    line = next;
  }
  for (int i = 0; i < n; i++) {
    // Unmounting must not reach the host.
    if (mount(nullptr, found[i], nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;  // under one detached already
      fail_mount("make host mount rslave", found[i]);
    }
    if (umount2(found[i], MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != EPERM) fail_mount("unmount host mount", found[i]);
    if (mount("tmpfs", found[i], "tmpfs", 0, nullptr) != 0) fail_mount("cover host mount", found[i]);
  }
}

}  // namespace

void enter_rootfs(const LaunchPlan& plan, int root_fd) {
  if (plan.host_mount_ns) {
    // The runtime's mount namespace: pivot_root would change the host's root, so chroot.
    if (fchdir(root_fd) != 0) fail_mount("chdir to rootfs", plan.rootfs);
    if (chroot(".") != 0) fail_mount("chroot", plan.rootfs);
  } else if (plan.no_pivot) {
    hide_host_proc_and_sys(plan);
    if (fchdir(root_fd) != 0) fail_mount("chdir to rootfs", plan.rootfs);
    if (mount(plan.rootfs, "/", nullptr, MS_MOVE, nullptr) != 0) fail_mount("move rootfs to /", plan.rootfs);
    if (chroot(".") != 0) fail_mount("chroot", plan.rootfs);
  } else {
    int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    int new_root = open(plan.rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (old_root < 0 || new_root < 0) fail_mount("open roots for pivot_root", plan.rootfs);
    if (fchdir(new_root) != 0) fail_mount("chdir to rootfs", plan.rootfs);
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail_mount("pivot_root", plan.rootfs);
    // The old root is now stacked under "."; detach it without propagating to the host.
    if (fchdir(old_root) != 0) fail_mount("chdir to old root", "/");
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) fail_mount("make old root rslave", "/");
    if (umount2(".", MNT_DETACH) != 0) fail_mount("unmount old root", "/");
    close(old_root);
    close(new_root);
  }
  if (chdir("/") != 0) fail_mount("chdir /", "/");
  close(root_fd);
  // shared or unbindable only takes hold on the new "/" (pivot_root refuses a shared one).
  if (!plan.host_mount_ns && plan.rootfs_propagation &&
      mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) != 0)
    fail_mount("set rootfs propagation after pivot_root", "/");
  if (plan.rootfs_readonly) {
    int fd = open("/", O_PATH | O_CLOEXEC);
    if (fd < 0 || bind_remount("/", fd, MS_RDONLY) != 0) fail_mount("remount rootfs read-only", "/");
    close(fd);
  }
}

}  // namespace skiff
