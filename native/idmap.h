// Idmapped mounts, the parent's half (before clone, so ordinary C++ is allowed here): a user
// namespace made from the mount's mappings, a detached copy of the source tree idmapped
// through it. The child only attaches the tree (mount_attrs.cc).
#pragma once
#include <string>

namespace skiff {

struct IdmapRequest {
  size_t mount;          // index in the plan's mounts
  std::string source;
  std::string uid_map;   // uid_map text: "containerID hostID size" lines, written as given
  std::string gid_map;
  bool recursive;        // ridmap: every mount under source is idmapped too
  bool clone_recursive;  // rbind: the copy holds the mounts under source
};

// Returns the fd of the idmapped detached tree, or -1 with *error set to a whole sentence.
int MakeIdmappedTree(const IdmapRequest& r, std::string* error);

}  // namespace skiff
