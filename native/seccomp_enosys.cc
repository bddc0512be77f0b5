// The -ENOSYS prologue runc prepends to its seccomp programs (libcontainer/seccomp/patchbpf):
// a syscall whose number is above the largest the profile names, for its architecture, is a
// syscall the profile cannot know (newer than the profile, or unknown to the kernel), and it
// gets ENOSYS instead of the default action. glibc and others then fall back to an older call,
// which they would not do for EPERM. Written here from the same rules, for our own compiler.
#include "seccomp_enosys.h"

#include <errno.h>
#include <linux/audit.h>
#include <seccomp.h>

#include <map>

namespace skiff {

namespace {

constexpr uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT

// libseccomp's arch tokens are the kernel's AUDIT_ARCH values, but for x32, which the kernel
// reports as x86_64 with bit 30 set in the syscall number.
uint32_t audit_arch(uint32_t token) { return token == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : token; }

// runc leaves programs whose default lets calls through alone: allow, log, and trace (a tracer
// handles new syscalls itself).
bool permissive(uint32_t action) {
  uint32_t a = action & 0xffff0000U;
  return a == 0x7fff0000U || a == 0x7ffc0000U || a == 0x7ff00000U;
}

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

// One architecture's check, ending in "to the filter" or "ENOSYS" (the caller resolves those two
// targets). Instructions jump forward only, so each section is laid out to end in a
// fall-through to the filter; `to_enosys` lists the instructions whose jt must reach ENOSYS.
struct Section {
  std::vector<sock_filter> code;
  std::vector<size_t> to_enosys;  // index of a conditional whose jt goes to ENOSYS
  std::vector<size_t> to_filter;  // index of a conditional whose jt goes to the filter
};

// Largest per mode: for AUDIT_ARCH_X86_64, [x86_64, x32]; else one entry.
Section arch_section(uint32_t native, const std::map<uint32_t, uint32_t>& largest) {
  Section s;
  s.code.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, 0));  // seccomp_data.nr
  auto gt_enosys = [&s](uint32_t max) {
    s.to_enosys.push_back(s.code.size());
    s.code.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, max, 0, 0));
  };
  if (native == AUDIT_ARCH_S390 || native == AUDIT_ARCH_S390X) {
    // Unknown "large" syscalls arrive as setup(2), number 0: ENOSYS for them too.
    s.to_enosys.push_back(s.code.size());
    s.code.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0));
  }
  auto x86 = largest.find(SCMP_ARCH_X86_64);
  auto x32 = largest.find(SCMP_ARCH_X32);
  if (native != AUDIT_ARCH_X86_64) {
    gt_enosys(largest.begin()->second);
  } else if (x86 != largest.end() && x32 != largest.end()) {
    // jset x32 -> x32 check; x86_64 check; to the filter; x32 check.
    s.code.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 2, 0));
    gt_enosys(x86->second);
    s.code.push_back(stmt(BPF_JMP | BPF_JA, 1));  // over the x32 check, to the filter
    gt_enosys(x32->second);
  } else if (x86 != largest.end()) {
    // An x32 call is the filter's to judge.
    s.to_filter.push_back(s.code.size());
    s.code.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 0));
    gt_enosys(x86->second);
  } else {
    s.code.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 1, 0));
    s.to_filter.push_back(s.code.size());
    s.code.push_back(stmt(BPF_JMP | BPF_JA, 0));  // not x32: to the filter
    gt_enosys(x32->second);
  }
  return s;
}

}  // namespace

bool enosys_prologue(uint32_t default_action, const std::vector<uint32_t>& arches,
                     const std::vector<std::string>& names, std::vector<sock_filter>* out, std::string* err) {
  out->clear();
  if (permissive(default_action)) return true;
  // native arch -> (libseccomp arch -> largest syscall number the profile names for it)
  std::map<uint32_t, std::map<uint32_t, uint32_t>> last;
  for (uint32_t arch : arches) {
    uint32_t largest = 0;
    for (const std::string& n : names) {
      int nr = seccomp_syscall_resolve_name_arch(arch, n.c_str());
      if (nr >= 0 && (uint32_t)nr > largest) largest = (uint32_t)nr;
    }
    if (largest) last[audit_arch(arch)][arch] = largest;
  }
  if (last.empty()) return true;

  // Layout: ld arch; one jeq per arch to its section; ja filter; sections (each falling
  // through to "ja filter" after it); ret ENOSYS; then the filter.
  std::vector<Section> sections;
  for (auto& [native, largest] : last) sections.push_back(arch_section(native, largest));
  size_t head = 1 + last.size() + 1;
  std::vector<size_t> start;
  size_t pos = head;
  for (auto& s : sections) { start.push_back(pos); pos += s.code.size() + 1; }  // +1: ja filter
  size_t enosys = pos, filter = pos + 1;

  std::vector<sock_filter>& p = *out;
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, 4));  // seccomp_data.arch
  size_t i = 0;
  for (auto& entry : last) {
    size_t at = p.size();
    size_t off = start[i++] - (at + 1);
    if (off > 255) { *err = "seccomp ENOSYS prologue: jump too long"; return false; }
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, entry.first, (uint8_t)off, 0));
  }
  p.push_back(stmt(BPF_JMP | BPF_JA, (uint32_t)(filter - (p.size() + 1))));
  for (auto& s : sections) {
    size_t base = p.size();
    for (auto& insn : s.code) p.push_back(insn);
    auto retarget = [&](const std::vector<size_t>& which, size_t target) {
      for (size_t k : which) {
        size_t off = target - (base + k + 1);
        if (off > 255) return false;
        if (BPF_OP(p[base + k].code) == BPF_JA) p[base + k].k = (uint32_t)off;
        else p[base + k].jt = (uint8_t)off;
      }
      return true;
    };
    if (!retarget(s.to_enosys, enosys) || !retarget(s.to_filter, filter)) {
      *err = "seccomp ENOSYS prologue: jump too long";
      return false;
    }
    p.push_back(stmt(BPF_JMP | BPF_JA, (uint32_t)(filter - (p.size() + 1))));
  }
  p.push_back(stmt(BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS)));
  return true;
}

}  // namespace skiff
