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

#include "child_util.h"
#include "napi_util.h"
#include "plan.h"
#include "mount_sources.h"
#include "plan_build.h"
#include "sync.h"

namespace skiff {
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info);  // seccomp.cc
Napi::Value SeccompVersion(const Napi::CallbackInfo& info);  // seccomp.cc
void RegisterCgroupNative(Napi::Env env, Napi::Object exports);  // cgroup_bpf.cc
void RegisterPidfdNative(Napi::Env env, Napi::Object exports);  // pidfd.cc
void RegisterNetdevNative(Napi::Env env, Napi::Object exports);  // netdev.cc
void RegisterProbeNative(Napi::Env env, Napi::Object exports);  // probe.cc
namespace {

struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

// spawnInit(plan) -> { pid, syncFd }: clones the container init, which waits for SYNC_GO.
Napi::Value SpawnInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    Napi::TypeError::New(env, "spawnInit: plan object expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  PlanStorage s;
  std::string bad;
  if (!BuildPlan(info[0].As<Napi::Object>(), s, &bad)) {
    Napi::TypeError::New(env, "spawnInit: " + bad).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  LaunchPlan& p = s.plan;

  // Namespaces to join are opened here, so a bad path is an error before anything exists.
  std::deque<FdGuard> join_fds;
  FdGuard pid_ns;
  std::string pid_ns_path;
  for (auto& [type, path] : s.joins) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ThrowErrno(env, "open namespace " + path, errno);
    if (type == CLONE_NEWPID) { pid_ns.reset(fd); pid_ns_path = path; continue; }
    join_fds.emplace_back(fd);
    if (p.njoins >= 8) continue;
    p.joins[p.njoins].nstype = type;
    p.joins[p.njoins].fd = fd;
    p.joins[p.njoins].path = path.c_str();
    p.njoins++;
  }
  // Idmapped trees are made here too: a filesystem that cannot be idmapped is an error before
  // anything exists, and the user namespaces need the runtime's privileges.
  std::deque<FdGuard> tree_fds;
  for (const IdmapRequest& r : s.idmaps) {
    std::string why;
    int fd = MakeIdmappedTree(r, &why);
    if (fd < 0) {
      Napi::Error::New(env, why).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    tree_fds.emplace_back(fd);
    s.mounts[r.mount].tree_fd = fd;
  }
  // Then the bind sources of a user-namespaced container, while we are the host's root outside
  // the user namespace (those without a tree of their own already).
  std::vector<int> source_fds;
  if (p.in_userns && !p.exec_mode) open_bind_sources(s, &source_fds);
  std::deque<FdGuard> source_guards;
  for (int fd : source_fds) source_guards.emplace_back(fd);
  FdGuard state_dir;
  // exec has one only for a seccomp agent's state file.
  if (!s.state_dir.empty()) {
    state_dir.reset(open(s.state_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (state_dir.get() < 0) return ThrowErrno(env, "open state dir " + s.state_dir, errno);
  }
  p.state_dirfd = state_dir.get();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return ThrowErrno(env, "socketpair", errno);
  FdGuard ours(sv[0]), theirs(sv[1]);
  p.sync_fd = theirs.get();

  // Joining a pid namespace applies to children only: enter it for the clone, then go back.
  FdGuard own_pid_ns;
  if (pid_ns.get() >= 0) {
    own_pid_ns.reset(open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (own_pid_ns.get() < 0) return ThrowErrno(env, "open /proc/self/ns/pid", errno);
    if (setns(pid_ns.get(), CLONE_NEWPID) != 0) {
      // A rootless exec: the container's user namespace owns its pid namespace, and this
      // multi-threaded process cannot enter the first. The child joins both and forks.
      bool joins_userns = false;
      for (int i = 0; i < p.njoins; i++) joins_userns |= p.joins[i].nstype == CLONE_NEWUSER;
      if (errno != EPERM || !p.exec_mode || !joins_userns) return ThrowErrno(env, "join pid namespace " + pid_ns_path, errno);
      p.pid_ns_fd = pid_ns.get();
      own_pid_ns.reset();
    }
  }

  CloneArgs args;
  memset(&args, 0, sizeof args);
  args.flags = p.clone_flags | (s.cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.exit_signal = SIGCHLD;
  args.cgroup = s.cgroup_fd >= 0 ? (uint64_t)s.cgroup_fd : 0;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == EINVAL && s.cgroup_fd >= 0) {
    // Kernels 5.3-5.6 have clone3 without CLONE_INTO_CGROUP: clone as before, and the
    // driver's join() writes cgroup.procs before the child is let go (it waits for GO).
    args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
    args.cgroup = 0;
    pid = syscall(SYS_clone3, &args, sizeof args);
  }
  if (pid < 0 && errno == ENOSYS) {
    // Kernels before 5.3: the classic clone, fork-like without a stack (join() places it).
    pid = syscall(SYS_clone, p.clone_flags | SIGCHLD, 0, 0, 0, 0);
  }
  if (pid == 0) child_main(p);  // never returns
  int clone_err = errno;
  if (own_pid_ns.get() >= 0) setns(own_pid_ns.get(), CLONE_NEWPID);
  if (pid < 0) return ThrowErrno(env, "clone3", clone_err);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, (double)pid));
  result.Set("syncFd", Napi::Number::New(env, ours.release()));
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
  const char first = byte;
  // Then the end: the init keeps its write end until execve closes it (close-on-exec).
  while (ok) {
    ssize_t r = read(fd, &byte, 1);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) break;
  }
  close(fd);
  close(pidfd);
  return Napi::Boolean::New(env, ok && first == '0');
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

// connectUnix(path[, what]) -> fd: the --console-socket (or what `what` names), connected
// before clone so errors come first.
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
    // what the socket is for, in the error: the console socket unless the caller says
    std::string what = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "console socket";
    return ThrowErrno(env, "connect to " + what + " " + path, err);
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
  fd_msghdr(&msg, &iov, cbuf, sizeof cbuf);
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
  RegisterPidfdNative(env, exports);
  RegisterNetdevNative(env, exports);
  RegisterProbeNative(env, exports);
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
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
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
