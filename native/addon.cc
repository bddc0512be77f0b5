// JS <-> C boundary: turns the TypeScript launch plan into C structs, clones the init, and
// exposes the few syscalls Node lacks (mkfifo, flock, waitpid, the fifo handshake).
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <string>
#include <vector>

#include "plan.h"
#include "sync.h"

namespace skiff {
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info);  // seccomp.cc
void RegisterCgroupNative(Napi::Env env, Napi::Object exports);  // cgroup_bpf.cc
namespace {

Napi::Value ThrowErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

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
  std::deque<std::vector<const char*>> hook_arrays;
  std::vector<HookSpec> create_hooks, start_hooks;
  LaunchPlan plan;

  const char* str(const Napi::Value& v) {
    if (!v.IsString()) return nullptr;
    strings.push_back(v.As<Napi::String>().Utf8Value());
    return strings.back().c_str();
  }
};

const char* GetStr(PlanStorage& s, const Napi::Object& o, const char* key) { return s.str(o.Get(key)); }
bool GetBool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}
int64_t GetInt(const Napi::Object& o, const char* key, int64_t dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) return v.As<Napi::Number>().Int64Value();
  if (v.IsBigInt()) { bool lossless; return v.As<Napi::BigInt>().Int64Value(&lossless); }
  return dflt;
}
uint64_t GetU64(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsBigInt()) { bool lossless; return v.As<Napi::BigInt>().Uint64Value(&lossless); }
  if (v.IsNumber()) return (uint64_t)v.As<Napi::Number>().Int64Value();
  return 0;
}
Napi::Array GetArr(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsArray() ? v.As<Napi::Array>() : Napi::Array::New(env, 0);
}

void FillStrings(PlanStorage& s, Napi::Array arr, std::vector<const char*>& out, bool null_terminate) {
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(s.str(arr.Get(i)));
  if (null_terminate) out.push_back(nullptr);
}

void BuildPlan(Napi::Env env, const Napi::Object& o, PlanStorage& s) {
  LaunchPlan& p = s.plan;
  memset(&p, 0, sizeof p);
  p.exec_mode = GetBool(o, "execMode");
  p.clone_flags = (unsigned long)GetInt(o, "cloneFlags", 0);
  // A cgroup namespace is rooted where its creator stands: create it only once the init is in
  // the container's cgroups (on v1 the parent moves it there after clone).
  p.unshare_cgroupns = (p.clone_flags & CLONE_NEWCGROUP) != 0;
  p.clone_flags &= ~(unsigned long)CLONE_NEWCGROUP;
  p.new_mount_ns = GetBool(o, "newMountNs");
  p.rootfs = GetStr(s, o, "rootfs");
  p.rootfs_readonly = GetBool(o, "rootfsReadonly");
  p.rootfs_propagation = (unsigned long)GetInt(o, "rootfsPropagation", MS_SLAVE | MS_REC);
  p.no_pivot = GetBool(o, "noPivot");

  Napi::Array mounts = GetArr(env, o, "mounts");
  for (uint32_t i = 0; i < mounts.Length(); i++) {
    Napi::Object m = mounts.Get(i).As<Napi::Object>();
    MountSpec ms;
    memset(&ms, 0, sizeof ms);
    ms.source = GetStr(s, m, "source");
    ms.destination = GetStr(s, m, "destination");
    ms.fstype = GetStr(s, m, "fstype");
    ms.data = GetStr(s, m, "data");
    ms.flags = (unsigned long)GetInt(m, "flags", 0);
    ms.propagation = (unsigned long)GetInt(m, "propagation", 0);
    ms.remount = (unsigned long)GetInt(m, "remount", 0);
    ms.bind = GetBool(m, "bind");
    ms.source_is_dir = GetBool(m, "sourceIsDir");
    s.mounts.push_back(ms);
  }
  p.mounts = s.mounts.data();
  p.nmounts = (int)s.mounts.size();

  p.setup_dev = GetBool(o, "setupDev");
  Napi::Array devices = GetArr(env, o, "devices");
  for (uint32_t i = 0; i < devices.Length(); i++) {
    Napi::Object d = devices.Get(i).As<Napi::Object>();
    DeviceSpec ds;
    ds.path = GetStr(s, d, "path");
    ds.mode = (mode_t)GetInt(d, "mode", 0);
    ds.dev = makedev((unsigned)GetInt(d, "major", 0), (unsigned)GetInt(d, "minor", 0));
    ds.uid = (uid_t)GetInt(d, "uid", 0);
    ds.gid = (gid_t)GetInt(d, "gid", 0);
    ds.host_path = GetStr(s, d, "hostPath");
    s.devices.push_back(ds);
  }
  p.devices = s.devices.data();
  p.ndevices = (int)s.devices.size();

  FillStrings(s, GetArr(env, o, "maskedPaths"), s.masked, false);
  p.masked_paths = s.masked.data();
  p.nmasked = (int)s.masked.size();
  FillStrings(s, GetArr(env, o, "readonlyPaths"), s.readonly, false);
  p.readonly_paths = s.readonly.data();
  p.nreadonly = (int)s.readonly.size();

  Napi::Array sysctls = GetArr(env, o, "sysctls");
  for (uint32_t i = 0; i < sysctls.Length(); i++) {
    Napi::Object sc = sysctls.Get(i).As<Napi::Object>();
    s.sysctls.push_back({GetStr(s, sc, "path"), GetStr(s, sc, "value")});
  }
  p.sysctls = s.sysctls.data();
  p.nsysctls = (int)s.sysctls.size();

  p.in_userns = GetBool(o, "inUserns");
  p.hostname = GetStr(s, o, "hostname");
  p.domainname = GetStr(s, o, "domainname");
  p.keyring_name = GetStr(s, o, "keyringName");

  Napi::Array rlimits = GetArr(env, o, "rlimits");
  for (uint32_t i = 0; i < rlimits.Length(); i++) {
    Napi::Object r = rlimits.Get(i).As<Napi::Object>();
    s.rlimits.push_back({(int)GetInt(r, "resource", 0), (rlim_t)GetU64(r, "soft"), (rlim_t)GetU64(r, "hard"),
                         GetStr(s, r, "name")});
  }
  p.rlimits = s.rlimits.data();
  p.nrlimits = (int)s.rlimits.size();

  Napi::Value oom = o.Get("oomScoreAdj");
  p.has_oom_score_adj = oom.IsNumber();
  p.oom_score_adj = p.has_oom_score_adj ? oom.As<Napi::Number>().Int32Value() : 0;
  p.uid = (uid_t)GetInt(o, "uid", 0);
  p.gid = (gid_t)GetInt(o, "gid", 0);
  Napi::Array gids = GetArr(env, o, "gids");
  for (uint32_t i = 0; i < gids.Length(); i++) s.gids.push_back((gid_t)gids.Get(i).As<Napi::Number>().Uint32Value());
  p.gids = s.gids.data();
  p.ngids = (int)s.gids.size();
  p.umask = (int)GetInt(o, "umask", -1);

  Napi::Value caps = o.Get("caps");
  p.has_caps = caps.IsObject();
  if (p.has_caps) {
    Napi::Object c = caps.As<Napi::Object>();
    p.caps = {GetU64(c, "bounding"), GetU64(c, "effective"), GetU64(c, "permitted"), GetU64(c, "inheritable"),
              GetU64(c, "ambient")};
  }
  p.cap_last_cap = (int)GetInt(o, "capLastCap", 40);
  p.no_new_privs = GetBool(o, "noNewPrivs");
  p.cwd = GetStr(s, o, "cwd");
  p.apparmor_profile = GetStr(s, o, "apparmorProfile");
  p.selinux_label = GetStr(s, o, "selinuxLabel");
  FillStrings(s, GetArr(env, o, "args"), s.argv, true);
  p.argv = s.argv.data();
  FillStrings(s, GetArr(env, o, "env"), s.envp, true);
  p.envp = s.envp.data();
  p.path_env = GetStr(s, o, "pathEnv");
  p.preserve_fds = (int)GetInt(o, "preserveFds", 0);
  p.fifo_name = "exec.fifo";
  p.terminal = GetBool(o, "terminal");
  p.console_fd = (int)GetInt(o, "consoleFd", -1);
  p.console_rows = (unsigned short)GetInt(o, "consoleRows", 0);
  p.console_cols = (unsigned short)GetInt(o, "consoleCols", 0);

  auto hooks = [&](const char* key, std::vector<HookSpec>& out) {
    Napi::Array arr = GetArr(env, o, key);
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Object h = arr.Get(i).As<Napi::Object>();
      s.hook_arrays.emplace_back();
      FillStrings(s, GetArr(env, h, "args"), s.hook_arrays.back(), true);
      const char* const* argv = s.hook_arrays.back().data();
      s.hook_arrays.emplace_back();
      FillStrings(s, GetArr(env, h, "env"), s.hook_arrays.back(), true);
      out.push_back({GetStr(s, h, "path"), argv, s.hook_arrays.back().data(), (int)GetInt(h, "timeout", 0)});
    }
  };
  hooks("createContainerHooks", s.create_hooks);
  hooks("startContainerHooks", s.start_hooks);
  p.create_container_hooks = s.create_hooks.data();
  p.ncreate_container_hooks = (int)s.create_hooks.size();
  p.start_container_hooks = s.start_hooks.data();
  p.nstart_container_hooks = (int)s.start_hooks.size();
  p.hook_state_name = "hook-state.json";

  Napi::Value seccomp = o.Get("seccompFilter");
  if (seccomp.IsBuffer()) {
    Napi::Buffer<uint8_t> b = seccomp.As<Napi::Buffer<uint8_t>>();
    s.seccomp.assign(b.Data(), b.Data() + b.Length());
    p.seccomp_filter = s.seccomp.data();
    p.seccomp_len = (unsigned short)(s.seccomp.size() / 8);  // sizeof(struct sock_filter)
    p.seccomp_flags = (unsigned int)GetInt(o, "seccompFlags", 0);
  }
  p.seccomp_listener_sock = (int)GetInt(o, "seccompListenerFd", -1);
  p.seccomp_state_name = "seccomp-state.json";
}

struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

void CloseJoins(LaunchPlan& p) {
  for (int i = 0; i < p.njoins; i++) close(p.joins[i].fd);
}

// spawnInit(plan) -> { pid, syncFd }: clones the container init, which waits for SYNC_GO.
Napi::Value SpawnInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    Napi::TypeError::New(env, "spawnInit: plan object expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  PlanStorage s;
  BuildPlan(env, o, s);
  LaunchPlan& p = s.plan;

  // Namespaces to join are opened here, so a bad path is an error before anything exists.
  Napi::Array joins = GetArr(env, o, "joins");
  int pid_ns_fd = -1;
  std::string pid_ns_path;
  for (uint32_t i = 0; i < joins.Length(); i++) {
    Napi::Object j = joins.Get(i).As<Napi::Object>();
    std::string path = j.Get("path").As<Napi::String>().Utf8Value();
    int type = (int)GetInt(j, "type", 0);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      CloseJoins(p);
      if (pid_ns_fd >= 0) close(pid_ns_fd);
      return ThrowErrno(env, "open namespace " + path, err);
    }
    if (type == CLONE_NEWPID) { pid_ns_fd = fd; pid_ns_path = path; continue; }
    if (p.njoins >= 8) { close(fd); continue; }
    p.joins[p.njoins].nstype = type;
    p.joins[p.njoins].fd = fd;
    p.joins[p.njoins].path = s.str(j.Get("path"));
    p.njoins++;
  }

  std::string state_dir = o.Get("stateDir").IsString() ? o.Get("stateDir").As<Napi::String>().Utf8Value() : "";
  p.state_dirfd = p.exec_mode ? -1 : open(state_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!p.exec_mode && p.state_dirfd < 0) {
    int err = errno;
    CloseJoins(p);
    if (pid_ns_fd >= 0) close(pid_ns_fd);
    return ThrowErrno(env, "open state dir " + state_dir, err);
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    int err = errno;
    CloseJoins(p);
    close(p.state_dirfd);
    if (pid_ns_fd >= 0) close(pid_ns_fd);
    return ThrowErrno(env, "socketpair", err);
  }
  p.sync_fd = sv[1];

  // Joining a pid namespace applies to children only: enter it for the clone, then go back.
  int own_pid_ns = -1;
  if (pid_ns_fd >= 0) {
    own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pid_ns < 0 || setns(pid_ns_fd, CLONE_NEWPID) != 0) {
      int err = errno;
      CloseJoins(p);
      close(p.state_dirfd);
      close(sv[0]);
      close(sv[1]);
      close(pid_ns_fd);
      if (own_pid_ns >= 0) close(own_pid_ns);
      return ThrowErrno(env, "join pid namespace " + pid_ns_path, err);
    }
  }

  int cgroup_fd = (int)GetInt(o, "cgroupFd", -1);
  CloneArgs args;
  memset(&args, 0, sizeof args);
  args.flags = p.clone_flags | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS) {
    if (cgroup_fd >= 0) {
      errno = ENOSYS;
    } else {
      // Kernels before 5.3: the classic clone, fork-like without a stack.
      pid = syscall(SYS_clone, p.clone_flags | SIGCHLD, 0, 0, 0, 0);
    }
  }
  if (pid == 0) child_main(p);  // never returns
  int clone_err = errno;

  if (own_pid_ns >= 0) {
    setns(own_pid_ns, CLONE_NEWPID);
    close(own_pid_ns);
    close(pid_ns_fd);
  }
  CloseJoins(p);
  if (p.state_dirfd >= 0) close(p.state_dirfd);
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return ThrowErrno(env, "clone3", clone_err);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, (double)pid));
  result.Set("syncFd", Napi::Number::New(env, sv[0]));
  return result;
}

Napi::Value SyncSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = info[1].As<Napi::Number>().Uint32Value();
  ssize_t r;
  do { r = send(fd, &m, sizeof m, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
  if (r != (ssize_t)sizeof m) return ThrowErrno(env, "sync send", r < 0 ? errno : EPIPE);
  return env.Undefined();
}

// syncRecv(fd) -> { type, errno, step, detail } or null on EOF (the child died).
Napi::Value SyncRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  SyncMsg m;
  ssize_t r;
  do { r = recv(fd, &m, sizeof m, 0); } while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, "sync recv", errno);
  if (r == 0) return env.Null();
  if (r != (ssize_t)sizeof m) return ThrowErrno(env, "sync recv: short message", EPROTO);
  m.step[sizeof m.step - 1] = 0;
  m.detail[sizeof m.detail - 1] = 0;
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", Napi::Number::New(env, m.type));
  o.Set("errno", Napi::Number::New(env, m.err));
  o.Set("step", Napi::String::New(env, m.step));
  o.Set("detail", Napi::String::New(env, m.detail));
  o.Set("message", Napi::String::New(env, m.err ? strerror(m.err) : ""));
  return o;
}

Napi::Value MkFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = (mode_t)info[1].As<Napi::Number>().Uint32Value();
  if (mkfifo(path.c_str(), mode) != 0) return ThrowErrno(env, "mkfifo " + path, errno);
  if (chmod(path.c_str(), mode) != 0) return ThrowErrno(env, "chmod " + path, errno);
  return env.Undefined();
}

// openExecFifo(path, pid): the start handshake. Opening the fifo for reading releases the
// init's blocked open; the byte it writes says it is past the fifo. A pidfd on the init turns
// "it died first" into an error instead of a hang.
Napi::Value OpenExecFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  pid_t pid = (pid_t)info[1].As<Napi::Number>().Int32Value();
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return ThrowErrno(env, "pidfd_open", errno);
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    close(pidfd);
    return ThrowErrno(env, "open exec fifo", err);
  }
  char byte = 0;
  bool ok = false;
  while (true) {
    ssize_t r = read(fd, &byte, 1);
    if (r == 1) { ok = true; break; }
    if (r < 0 && errno != EAGAIN && errno != EINTR) break;
    // r == 0 before any writer means "not yet"; wait on both the fifo and the init.
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) continue;
    if (fds[1].revents & POLLIN) {
      // Exited; one last try in case it wrote before it died.
      ok = read(fd, &byte, 1) == 1;
      break;
    }
    if (fds[0].revents & POLLHUP) {
      ok = read(fd, &byte, 1) == 1;
      break;
    }
  }
  close(fd);
  close(pidfd);
  return Napi::Boolean::New(env, ok && byte == '0');
}

Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Number>().Int32Value();
  int r;
  do { r = flock(fd, op); } while (r < 0 && errno == EINTR);
  if (r != 0) return ThrowErrno(env, "flock", errno);
  return env.Undefined();
}

Napi::Object StatusObject(Napi::Env env, int status) {
  Napi::Object o = Napi::Object::New(env);
  if (WIFEXITED(status)) {
    o.Set("code", Napi::Number::New(env, WEXITSTATUS(status)));
    o.Set("signal", env.Null());
  } else {
    o.Set("code", env.Null());
    o.Set("signal", Napi::Number::New(env, WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  }
  return o;
}

// waitPidSync(pid) -> { code, signal } or null if it is not our child.
Napi::Value WaitPidSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = (pid_t)info[0].As<Napi::Number>().Int32Value();
  int status = 0;
  pid_t r;
  do { r = waitpid(pid, &status, __WALL); } while (r < 0 && errno == EINTR);
  if (r < 0) return env.Null();
  return StatusObject(env, status);
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, pid_t pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    pid_t r;
    do { r = waitpid(pid_, &status_, __WALL); } while (r < 0 && errno == EINTR);
    err_ = r < 0 ? errno : 0;
  }
  void OnOK() override {
    if (err_) deferred_.Resolve(Env().Null());
    else deferred_.Resolve(StatusObject(Env(), status_));
  }

 private:
  pid_t pid_;
  int status_ = 0;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

// waitPid(pid) -> Promise<{ code, signal } | null>, waiting on a worker thread.
Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  auto* w = new WaitWorker(info.Env(), (pid_t)info[0].As<Napi::Number>().Int32Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// waitExited([pids]): blocks until every one of them has exited, on pidfds (no polling).
Napi::Value WaitExited(const Napi::CallbackInfo& info) {
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<struct pollfd> fds;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    int fd = (int)syscall(SYS_pidfd_open, arr.Get(i).As<Napi::Number>().Int32Value(), 0);
    if (fd >= 0) fds.push_back({fd, POLLIN, 0});
  }
  size_t left = fds.size();
  while (left > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (auto& p : fds) {
      if (p.fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
        close(p.fd);
        p.fd = -1;  // poll ignores negative fds
        left--;
      }
    }
  }
  for (auto& p : fds) if (p.fd >= 0) close(p.fd);
  return info.Env().Undefined();
}

// connectUnix(path) -> fd: the --console-socket, connected before clone so errors come first.
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return ThrowErrno(env, "console socket " + path, ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "connect to console socket " + path, err);
  }
  return Napi::Number::New(env, fd);
}

// socketPair() -> [a, b]: a private console socket for `run` in the foreground.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return ThrowErrno(env, "socketpair", errno);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set((uint32_t)0, Napi::Number::New(env, sv[0]));
  a.Set((uint32_t)1, Napi::Number::New(env, sv[1]));
  return a;
}

// recvFd(sock) -> { fd, name }: one SCM_RIGHTS message (the pty master and its name).
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  char name[256];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {name, sizeof name - 1};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t r;
  do { r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, "recvmsg", errno);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return ThrowErrno(env, "recvmsg: no fd", EPROTO);
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  name[r] = 0;
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", Napi::Number::New(env, fd));
  o.Set("name", Napi::String::New(env, name));
  return o;
}

Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &ws);
  return info.Env().Undefined();
}

Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return ThrowErrno(info.Env(), "dup", errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterCgroupNative(env, exports);
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("syncSend", Napi::Function::New(env, SyncSend));
  exports.Set("syncRecv", Napi::Function::New(env, SyncRecv));
  exports.Set("mkfifo", Napi::Function::New(env, MkFifo));
  exports.Set("openExecFifo", Napi::Function::New(env, OpenExecFifo));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("waitPidSync", Napi::Function::New(env, WaitPidSync));
  exports.Set("waitPid", Napi::Function::New(env, WaitPid));
  exports.Set("waitExited", Napi::Function::New(env, WaitExited));
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("dup", Napi::Function::New(env, Dup));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  return exports;
}

}  // namespace
}  // namespace skiff

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return skiff::Init(env, exports); }
NODE_API_MODULE(skiff, InitModule)
