// What every N-API entry point of the addon shares: one way to throw an errno as a JS error.
#pragma once
#include <napi.h>
#include <string.h>
#include <unistd.h>

#include <string>

namespace skiff {

// Throws Error("<what>: <strerror>") with .errno set; returns undefined for `return`.
inline Napi::Value ThrowErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// Closes an fd when it goes out of scope unless release()d: one guard instead of a ladder of
// close() calls on every error path.
class FdGuard {
 public:
  explicit FdGuard(int fd = -1) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() { reset(); }
  int get() const { return fd_; }
  int release() { int fd = fd_; fd_ = -1; return fd; }
  void reset(int fd = -1) { if (fd_ >= 0) ::close(fd_); fd_ = fd; }
 private:
  int fd_;
};

}  // namespace skiff
