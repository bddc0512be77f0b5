// The -ENOSYS prologue of a compiled seccomp program (see seccomp_enosys.cc). Parent side only.
#pragma once
#include <linux/filter.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace skiff {

// The instructions to put before libseccomp's program so that a syscall above the largest one
// the profile names (per architecture) gets ENOSYS, as runc does. Empty when the default action
// lets calls through or the profile names no syscall of its architectures. `arches` are
// libseccomp arch tokens; false and `err` if the program cannot be laid out.
bool enosys_prologue(uint32_t default_action, const std::vector<uint32_t>& arches,
                     const std::vector<std::string>& names, std::vector<sock_filter>* out, std::string* err);

}  // namespace skiff
