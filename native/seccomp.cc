// Parent side of seccomp: the OCI profile, already checked and normalized in TypeScript, is
// compiled with libseccomp to a BPF program before clone. The child only loads the bytes.
#include <napi.h>

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "seccomp_enosys.h"

namespace skiff {

namespace {

Napi::Value Fail(Napi::Env env, const std::string& msg) {
  Napi::Error::New(env, "seccomp: " + msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

uint32_t U32(const Napi::Object& o, const char* k) { return o.Get(k).As<Napi::Number>().Uint32Value(); }
uint64_t U64(const Napi::Value& v) {
  if (v.IsBigInt()) { bool lossless; return v.As<Napi::BigInt>().Uint64Value(&lossless); }
  return (uint64_t)v.As<Napi::Number>().Int64Value();
}

}  // namespace

// compileSeccomp({ defaultAction, architectures: [names], rules: [{ syscall, action,
//   args: [{ index, op, value, valueTwo }] }] }) -> Buffer of struct sock_filter.
// Unknown syscall names are skipped (runc's behaviour: profiles name syscalls of many kernels).
// Syscalls above the largest one the profile names get ENOSYS (seccomp_enosys.cc), as in runc.
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object p = info[0].As<Napi::Object>();
  scmp_filter_ctx ctx = seccomp_init(U32(p, "defaultAction"));
  if (!ctx) return Fail(env, "invalid default action");
  // We load the program ourselves, after no_new_privs is decided by the config.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  uint32_t default_action = U32(p, "defaultAction");
  std::vector<uint32_t> arch_tokens;
  std::vector<std::string> names;
  Napi::Array arches = p.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < arches.Length(); i++) {
    std::string name = arches.Get(i).As<Napi::String>().Utf8Value();
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (arch == 0) { seccomp_release(ctx); return Fail(env, "unknown architecture " + name); }
    int r = seccomp_arch_add(ctx, arch);
    if (r != 0 && r != -EEXIST) { seccomp_release(ctx); return Fail(env, "add architecture " + name + ": " + strerror(-r)); }
    arch_tokens.push_back(arch);
  }
  Napi::Array rules = p.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("syscall").As<Napi::String>().Utf8Value();
    names.push_back(name);
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;
    uint32_t action = U32(rule, "action");
    Napi::Array args = rule.Get("args").As<Napi::Array>();
    std::vector<scmp_arg_cmp> cmps;
    for (uint32_t j = 0; j < args.Length(); j++) {
      Napi::Object a = args.Get(j).As<Napi::Object>();
      scmp_arg_cmp c;
      c.arg = U32(a, "index");
      c.op = (scmp_compare)U32(a, "op");
      c.datum_a = U64(a.Get("value"));
      c.datum_b = U64(a.Get("valueTwo"));
      cmps.push_back(c);
    }
    int r = seccomp_rule_add_array(ctx, action, nr, (unsigned)cmps.size(), cmps.empty() ? nullptr : cmps.data());
    // A rule whose action equals the default is redundant; libseccomp says so with EACCES.
    if (r != 0 && r != -EACCES) {
      seccomp_release(ctx);
      return Fail(env, "add rule for " + name + ": " + strerror(-r));
    }
  }
  int fd = memfd_create("skiff-seccomp", MFD_CLOEXEC);
  if (fd < 0) { seccomp_release(ctx); return Fail(env, std::string("memfd_create: ") + strerror(errno)); }
  int r = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  if (r != 0) { close(fd); return Fail(env, std::string("export: ") + strerror(-r)); }
  off_t len = lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> stub;
  std::string why;
  if (!enosys_prologue(default_action, arch_tokens, names, &stub, &why)) { close(fd); return Fail(env, why); }
  size_t stub_bytes = stub.size() * sizeof(sock_filter);
  std::vector<uint8_t> buf(stub_bytes + (size_t)len);
  if (stub_bytes) memcpy(buf.data(), stub.data(), stub_bytes);
  if (pread(fd, buf.data() + stub_bytes, (size_t)len, 0) != (ssize_t)len) { close(fd); return Fail(env, "read back program"); }
  close(fd);
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), buf.size());
}

// seccompVersion() -> "2.5.4": the libseccomp this build runs with (skiff --version).
Napi::Value SeccompVersion(const Napi::CallbackInfo& info) {
  const scmp_version* v = seccomp_version();
  return Napi::String::New(info.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro));
}

}  // namespace skiff
