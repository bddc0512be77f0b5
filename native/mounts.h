// Root filesystem setup for the container init (child side: raw syscalls, fixed buffers).
#pragma once
#include "plan.h"

namespace skiff {

// Opens `path` (absolute, inside the root) relative to root_fd without letting any symlink or
// ".." leave the root (openat2 RESOLVE_IN_ROOT). Returns an fd or -1 with errno set.
int open_in_root(int root_fd, const char* path, int flags);

// Creates the directories of `path` inside the root as needed. Returns 0 or -1 with errno set.
int mkdir_all_in_root(int root_fd, const char* path, mode_t mode);

// Everything between "new mount namespace" and pivot_root: propagation, the rootfs bind,
// config mounts, /dev, the cwd, masked and readonly paths. Returns the rootfs fd.
int prepare_rootfs(const LaunchPlan& plan);

// A config mount of /dev with "ro" is mounted writable so that /dev/pts, the devices and the
// console can be made in it; this remounts it read-only once they are (after the terminal).
void remount_dev_readonly(const LaunchPlan& plan, int root_fd);

// pivot_root (or MS_MOVE + chroot with --no-pivot), then root.readonly.
void enter_rootfs(const LaunchPlan& plan, int root_fd);

}  // namespace skiff
