// Bind sources of a user-namespaced container, taken on the host side (parent, before clone).
// The container's root is a mapped uid: a source under a directory only the host's root may
// search (a 0700 bundle, /root/...) cannot be reached by path from inside the new user
// namespace. runc opens such sources before it enters the user namespace and hands the fds
// in; here each is cloned as a detached mount (open_tree OPEN_TREE_CLONE) while we are still
// the host's root, and the child attaches it with move_mount: no path is walked in the
// container's user namespace.
#include "mount_sources.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace skiff {

void open_bind_sources(PlanStorage& s, std::vector<int>* opened) {
  int n = 0;  // every detached tree counts, the idmapped ones made before these too
  for (const MountSpec& m : s.mounts) n += m.tree_fd >= 0;
  for (MountSpec& m : s.mounts) {
    if (!m.bind || !m.source || m.tree_fd >= 0 || n >= kMaxMountTreeFds) continue;
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m.flags & MS_REC) ? AT_RECURSIVE : 0);
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, m.source, flags);
    // On failure the child binds by path as before, and reports that path's error.
    if (fd < 0) continue;
    m.tree_fd = fd;
    opened->push_back(fd);
    n++;
  }
}

}  // namespace skiff
