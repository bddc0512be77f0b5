#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "napi_util.h"

namespace skiff {
namespace {

std::string errno_text(int err) { return strerror(err); }

bool write_map(pid_t pid, const char* file, const std::string& map, std::string* error) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  FdGuard fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0 || write(fd.get(), map.data(), map.size()) != (ssize_t)map.size()) {
    *error = std::string("idmapped mount: write ") + file + " of its user namespace: " + errno_text(errno);
    return false;
  }
  return true;
}

// A user namespace holding the mapping, as an fd: a child is cloned into a new one and waits on
// a pipe (raw syscalls only: the parent is multi-threaded) while its maps are written, and the
// namespace outlives it through the fd. The mapping is written as given, as runc does: a file
// owned by containerID on disk is seen as hostID through the mount.
int make_userns(const IdmapRequest& r, std::string* error) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return *error = "idmapped mount: pipe: " + errno_text(errno), -1;
  FdGuard rd(p[0]), wr(p[1]);
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    close(wr.get());
    char c;
    ssize_t ignored = read(rd.get(), &c, 1);  // EOF once the parent has the namespace
    (void)ignored;
    _exit(0);
  }
  if (pid < 0) return *error = "idmapped mount: clone a user namespace: " + errno_text(errno), -1;
  int fd = -1;
  if (write_map((pid_t)pid, "uid_map", r.uid_map, error) && write_map((pid_t)pid, "gid_map", r.gid_map, error)) {
    std::string ns = "/proc/" + std::to_string(pid) + "/ns/user";
    fd = open(ns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) *error = "idmapped mount: open " + ns + ": " + errno_text(errno);
  }
  wr.reset();
  int status;
  while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
  return fd;
}

// The filesystem type of the mount holding `path` (the longest mount point that is a prefix of
// its real path), for the error that says which filesystem cannot be idmapped.
std::string fstype_of(const std::string& path) {
  char real[PATH_MAX];
  if (!realpath(path.c_str(), real)) return "unknown";
  std::string p = real, best_type = "unknown";
  size_t best = 0;
  // C stdio, not iostreams: <sstream> linked libstdc++'s locale machinery into the addon,
  // whose pages every command that loads it paid for.
  FILE* in = fopen("/proc/self/mountinfo", "re");
  if (!in) return best_type;
  char* line = nullptr;
  size_t cap = 0;
  while (getline(&line, &cap, in) > 0) {
    char mnt[PATH_MAX];
    char type[64];
    const char* sep = strstr(line, " - ");
    if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || sscanf(sep + 3, "%63s", type) != 1) continue;
    std::string m = mnt;
    bool prefix = m == "/" || p == m || (p.compare(0, m.size(), m) == 0 && p[m.size()] == '/');
    if (prefix && m.size() >= best) { best = m.size(); best_type = type; }
  }
  free(line);
  fclose(in);
  return best_type;
}

}  // namespace

int MakeIdmappedTree(const IdmapRequest& r, std::string* error) {
  FdGuard userns(make_userns(r, error));
  if (userns.get() < 0) return -1;
  unsigned int rec = r.recursive ? AT_RECURSIVE : 0;
  unsigned int clone_rec = r.clone_recursive ? AT_RECURSIVE : 0;
  FdGuard tree((int)syscall(SYS_open_tree, AT_FDCWD, r.source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | clone_rec));
  if (tree.get() < 0) return *error = "idmapped mount: open_tree " + r.source + ": " + errno_text(errno), -1;
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t)userns.get();
  if (syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | rec, &attr, sizeof attr) != 0) {
    int err = errno;
    if (err == EINVAL) {
      *error = "idmapped mount of " + r.source + ": its filesystem (" + fstype_of(r.source) +
               ") does not support idmapped mounts (mount_setattr: " + errno_text(err) + ")";
    } else {
      *error = "idmapped mount of " + r.source + ": mount_setattr: " + errno_text(err);
    }
    return -1;
  }
  return tree.release();
}

}  // namespace skiff
