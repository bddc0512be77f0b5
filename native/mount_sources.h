// Host-side bind sources for user-namespaced containers (see mount_sources.cc). Parent only.
#pragma once
#include <sys/mount.h>

#include <vector>

#include "plan_build.h"

namespace skiff {

// Sets tree_fd on each bind mount of s.mounts that has none yet (an idmapped one has) and whose
// source could be cloned (at most kMaxMountTreeFds in all); the fds are appended to *opened, for the caller to close after clone.
void open_bind_sources(PlanStorage& s, std::vector<int>* opened);

}  // namespace skiff
