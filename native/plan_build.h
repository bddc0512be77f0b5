// The TypeScript launch plan (src/native.ts NativePlan) -> struct LaunchPlan, checked: an
// unknown key, a missing one, a value of the wrong type or out of its C type's range is an
// error naming the key, never a silent default.
#pragma once
#include <napi.h>

#include <deque>
#include <string>
#include <vector>

#include "idmap.h"
#include "plan.h"

namespace skiff {

// Owns every string and array the plan points at, for as long as the parent needs them; the
// child gets its own copy through fork semantics.
struct PlanStorage {
  std::deque<std::string> strings;  // deque: pointers stay valid as it grows
  std::vector<MountSpec> mounts;
  std::vector<DeviceSpec> devices;
  std::vector<const char*> masked, readonly, argv, envp;
  std::vector<SysctlSpec> sysctls;
  std::vector<RlimitSpec> rlimits;
  std::vector<gid_t> gids;
  std::vector<uint8_t> seccomp;
  std::vector<unsigned long> nodemask;
  std::deque<std::vector<const char*>> hook_arrays;
  std::vector<HookSpec> create_hooks, start_hooks;
  LaunchPlan plan;
  // read by SpawnInit, not part of LaunchPlan
  std::vector<std::pair<int, std::string>> joins;  // (CLONE_NEW*, path)
  std::vector<IdmapRequest> idmaps;                // trees to make before clone, for mounts[i].tree_fd
  std::string state_dir;
  int cgroup_fd = -1;

  const char* keep(std::string v) {
    strings.push_back(std::move(v));
    return strings.back().c_str();
  }
};

// Fills s.plan from the JS object; on a bad plan returns false with *error set.
bool BuildPlan(const Napi::Object& o, PlanStorage& s, std::string* error);

}  // namespace skiff
