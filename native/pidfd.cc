// --pidfd-socket (runc 1.2): a pidfd of the container's process, sent over a unix socket the
// caller listens on, as one SCM_RIGHTS message whose payload is the fd's name, "pidfd".
// Runs in the parent (Node), after the process exists.
#include <napi.h>

#include <sys/syscall.h>
#include <unistd.h>

#include "child_util.h"
#include "napi_util.h"

namespace skiff {
namespace {

// sendPidfd(sock, pid): opens a pidfd of pid and sends it; the socket stays the caller's.
Napi::Value SendPidfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  pid_t pid = (pid_t)info[1].As<Napi::Number>().Int32Value();
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return ThrowErrno(env, "pidfd_open", errno);
  static const char kName[] = "pidfd";
  int r = send_fd(sock, pidfd, kName, sizeof kName - 1);
  int err = errno;
  close(pidfd);
  if (r != 0) return ThrowErrno(env, "send pidfd", err);
  return env.Undefined();
}

}  // namespace

void RegisterPidfdNative(Napi::Env env, Napi::Object exports) {
  exports.Set("sendPidfd", Napi::Function::New(env, SendPidfd));
}

}  // namespace skiff
