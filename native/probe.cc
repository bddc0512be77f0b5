// `skiff check`: the kernel probes that need a syscall. Each is cheap and leaves nothing
// behind: calls made with arguments the kernel rejects after it has recognised the call (so
// ENOSYS or EINVAL tells what it lacks), and a detached mount tree that is closed at once.
#include <napi.h>

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "napi_util.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

namespace skiff {
namespace {

// The errno of one harmless call per syscall name (0: it succeeded), ENOSYS where the kernel
// lacks it. Unknown names throw.
int syscall_errno(const std::string& name) {
  long r = -1;
  errno = 0;
  if (name == "clone3") r = syscall(SYS_clone3, nullptr, 0);  // EINVAL: too small an argument
  else if (name == "open_tree") r = syscall(SYS_open_tree, -1, "", 0);
  else if (name == "mount_setattr") r = syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0);
  else if (name == "pidfd_open") {
    r = syscall(SYS_pidfd_open, getpid(), 0);
    if (r >= 0) { close((int)r); return 0; }
  } else if (name == "pidfd_send_signal") r = syscall(SYS_pidfd_send_signal, -1, 0, nullptr, 0);
  else if (name == "sched_setattr") r = syscall(SYS_sched_setattr, 0, nullptr, 0);
  else if (name == "set_mempolicy") r = syscall(SYS_get_mempolicy, nullptr, nullptr, 0, nullptr, 0);
  else if (name == "ioprio_set") r = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
  else return -1;
  return r >= 0 ? 0 : errno;
}

Napi::Value SyscallErrno(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int e = syscall_errno(name);
  if (e < 0) {
    Napi::TypeError::New(env, "syscallErrno: no probe for " + name).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, e);
}

// seccomp(SET_MODE_FILTER, flag, NULL): EFAULT once the flag is known (the NULL program is
// read after the flags are checked), EINVAL when it is not. No filter is ever installed.
Napi::Value SeccompFlagErrno(const Napi::CallbackInfo& info) {
  unsigned flag = info[0].As<Napi::Number>().Uint32Value();
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, nullptr);
  return Napi::Number::New(info.Env(), r == 0 ? 0 : errno);
}

// A user namespace mapping root to 100000, held by a child that waits on a pipe: the fd of
// its namespace, or -errno. The child is gone when this returns.
int probe_userns() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -errno;
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    char c;
    close(p[1]);
    ssize_t ignored = read(p[0], &c, 1);  // raw syscalls only: the parent is multi-threaded
    (void)ignored;
    _exit(0);
  }
  int err = errno;
  close(p[0]);
  if (pid < 0) { close(p[1]); return -err; }
  int ns = -1;
  const char* maps[] = {"uid_map", "gid_map"};
  bool mapped = true;
  for (const char* m : maps) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + m;
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0 100000 1", 10) != 10) { err = errno; mapped = false; }
    if (fd >= 0) close(fd);
  }
  if (mapped) {
    ns = open(("/proc/" + std::to_string(pid) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) err = errno;
  }
  close(p[1]);  // the child reads EOF and exits
  int status;
  while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
  return ns >= 0 ? ns : -err;
}

// idmapProbe([path...]) -> [errno...]: whether the filesystem at each path takes an idmapped
// mount (0), from a detached clone of its mount that is closed at once.
Napi::Value IdmapProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array paths = info[0].As<Napi::Array>();
  Napi::Array out = Napi::Array::New(env, paths.Length());
  int ns = probe_userns();
  for (uint32_t i = 0; i < paths.Length(); i++) {
    if (ns < 0) { out.Set(i, Napi::Number::New(env, -ns)); continue; }
    std::string path = paths.Get(i).As<Napi::String>().Utf8Value();
    FdGuard tree((int)syscall(SYS_open_tree, AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (tree.get() < 0) { out.Set(i, Napi::Number::New(env, errno)); continue; }
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)ns;
    long r = syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr);
    out.Set(i, Napi::Number::New(env, r == 0 ? 0 : errno));
  }
  if (ns >= 0) close(ns);
  return out;
}

}  // namespace

void RegisterProbeNative(Napi::Env env, Napi::Object exports) {
  exports.Set("syscallErrno", Napi::Function::New(env, SyscallErrno));
  exports.Set("seccompFlagErrno", Napi::Function::New(env, SeccompFlagErrno));
  exports.Set("idmapProbe", Napi::Function::New(env, IdmapProbe));
}

}  // namespace skiff
