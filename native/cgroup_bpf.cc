// The cgroup syscalls Node lacks: loading and attaching the v2 device filter (a
// BPF_PROG_TYPE_CGROUP_DEVICE program built in TypeScript, src/cgroups/bpf.ts), and an eventfd
// for v1 memory notifications (cgroup.event_control), and the placeholder process a systemd
// scope is started with. Exposed as `addon.cgroups`.
#include <napi.h>
#include "napi_util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace skiff {
namespace {


long Bpf(int cmd, union bpf_attr* attr) { return syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

// Program ids attached directly to the cgroup (not inherited) for BPF_CGROUP_DEVICE.
int QueryPrograms(int cgfd, std::vector<uint32_t>& ids) {
  ids.assign(64, 0);
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = cgfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  attr.query.prog_cnt = ids.size();
  if (Bpf(BPF_PROG_QUERY, &attr) < 0) return -1;
  ids.resize(attr.query.prog_cnt);
  return 0;
}

// attachDeviceFilter(cgroupDir, insns: Buffer): loads the program, attaches it to the cgroup
// (BPF_F_ALLOW_MULTI, as runc does) and then detaches whatever device programs were attached
// there before, so an update never leaves a window without a filter.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "attachDeviceFilter(dir, insns)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % 8 != 0) {
    Napi::TypeError::New(env, "attachDeviceFilter: insns must be whole BPF instructions").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int cgfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) return ThrowErrno(env, "open " + dir, errno);

  static char license[] = "Apache";
  std::vector<char> log(65536, 0);
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = insns.Length() / 8;
  attr.insns = reinterpret_cast<uint64_t>(insns.Data());
  attr.license = reinterpret_cast<uint64_t>(license);
  attr.log_level = 1;
  attr.log_size = log.size();
  attr.log_buf = reinterpret_cast<uint64_t>(log.data());
  int prog = static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
  if (prog < 0 && errno == ENOSPC) {  // log too small: load again without it
    attr.log_level = 0; attr.log_size = 0; attr.log_buf = 0;
    prog = static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
  }
  if (prog < 0) {
    int err = errno;
    close(cgfd);
    return ThrowErrno(env, std::string("load the device filter program") + (log[0] ? " (" + std::string(log.data()) + ")" : ""), err);
  }
  std::vector<uint32_t> old;
  if (QueryPrograms(cgfd, old) < 0) old.clear();

  memset(&attr, 0, sizeof(attr));
  attr.target_fd = cgfd;
  attr.attach_bpf_fd = prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) < 0) {
    int err = errno;
    close(prog);
    close(cgfd);
    return ThrowErrno(env, "attach the device filter to " + dir, err);
  }
  for (uint32_t id : old) {
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    int ofd = static_cast<int>(Bpf(BPF_PROG_GET_FD_BY_ID, &attr));
    if (ofd < 0) continue;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgfd;
    attr.attach_bpf_fd = ofd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    Bpf(BPF_PROG_DETACH, &attr);
    close(ofd);
  }
  close(prog);  // the attachment holds the program
  close(cgfd);
  return env.Undefined();
}

// deviceFilterCount(cgroupDir): how many device programs are attached directly (for tests).
Napi::Value DeviceFilterCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  int cgfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) return ThrowErrno(env, "open " + dir, errno);
  std::vector<uint32_t> ids;
  int r = QueryPrograms(cgfd, ids);
  int err = errno;
  close(cgfd);
  if (r < 0) return ThrowErrno(env, "query device programs of " + dir, err);
  return Napi::Number::New(env, ids.size());
}

// eventfd() -> fd (close-on-exec), for cgroup.event_control.
Napi::Value EventFd(const Napi::CallbackInfo& info) {
  int fd = eventfd(0, EFD_CLOEXEC);
  if (fd < 0) return ThrowErrno(info.Env(), "eventfd", errno);
  return Napi::Number::New(info.Env(), fd);
}

// A child that only waits to be killed: systemd makes a scope only around a process
// (PIDs=), and the container's init must be cloned straight into the scope's cgroup, so the
// scope is started around this one, which is killed once the init is in. Raw clone, raw
// syscalls only (the parent is multi-threaded); it dies with the thread that made it.
Napi::Value SpawnPlaceholder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t parent = getpid();
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (syscall(SYS_getppid) != parent) syscall(SYS_exit_group, 1);
    for (;;) syscall(SYS_ppoll, 0, 0, 0, 0, 0);  // no fds, no timeout: sleeps until killed
  }
  if (pid < 0) return ThrowErrno(env, "clone (systemd scope placeholder)", errno);
  return Napi::Number::New(env, (double)pid);
}

}  // namespace

void RegisterCgroupNative(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  o.Set("deviceFilterCount", Napi::Function::New(env, DeviceFilterCount));
  o.Set("eventfd", Napi::Function::New(env, EventFd));
  o.Set("spawnPlaceholder", Napi::Function::New(env, SpawnPlaceholder));
  exports.Set("cgroups", o);
}

}  // namespace skiff
