#include "mount_attrs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child_util.h"
#include "mounts.h"

namespace skiff {

void apply_recursive_attrs(int root_fd, const MountSpec& m) {
  if (!m.rec_attr_set && !m.rec_attr_clr) return;
  // Reopened: the fd taken before the mount names the covered directory, not the mount.
  int fd = open_in_root(root_fd, m.destination, O_PATH | O_CLOEXEC);
  if (fd < 0) fail("reopen mount for recursive attributes", errno, m.destination);
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = m.rec_attr_set;
  attr.attr_clr = m.rec_attr_clr;
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    fail("set recursive mount attributes (mount_setattr)", errno, m.destination);
  close(fd);
}

int attach_tree(const MountSpec& m, int target_fd) {
  return (int)syscall(SYS_move_mount, m.tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

}  // namespace skiff
