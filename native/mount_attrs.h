// The new mount API in the child: recursive attributes (mount_setattr) and attaching a
// detached, idmapped tree the parent made (move_mount). Raw syscalls only.
#pragma once
#include "plan.h"

namespace skiff {

// mount_setattr(AT_RECURSIVE) with m's rec_attr_set/clr on the mount now at m.destination,
// so every mount under it (an rbind's submounts) gets them too. Fails the child on error.
void apply_recursive_attrs(int root_fd, const MountSpec& m);

// Puts the detached tree m.tree_fd (open_tree(OPEN_TREE_CLONE), made in the parent) on the
// target fd. Returns 0 or -1 with errno set.
int attach_tree(const MountSpec& m, int target_fd);

}  // namespace skiff
