// Helpers usable in the cloned child: raw syscalls, fixed buffers, no allocation, no exceptions.
#pragma once
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "sync.h"

namespace skiff {

// Bounded copy that always terminates; returns the length written.
inline size_t copy_str(char* dst, size_t cap, const char* src) {
  size_t n = 0;
  if (cap == 0) return 0;
  while (src && src[n] && n + 1 < cap) { dst[n] = src[n]; n++; }
  dst[n] = 0;
  return n;
}

// Appends src to the string in dst (capacity cap).
inline size_t append_str(char* dst, size_t cap, const char* src) {
  size_t len = strnlen(dst, cap);
  return len + copy_str(dst + len, cap - len, src);
}

inline void format_int(char* dst, size_t cap, long v) {
  char tmp[24];
  int i = 0;
  bool neg = v < 0;
  unsigned long u = neg ? (unsigned long)(-v) : (unsigned long)v;
  do { tmp[i++] = (char)('0' + u % 10); u /= 10; } while (u && i < 22);
  if (neg) tmp[i++] = '-';
  size_t n = 0;
  while (i > 0 && n + 1 < cap) dst[n++] = tmp[--i];
  dst[n] = 0;
}

// "/proc/self/fd/N": how a mount(2) call names a target that was resolved as an fd.
inline void fd_path(char (&buf)[40], int fd) {
  copy_str(buf, sizeof buf, "/proc/self/fd/");
  format_int(buf + 14, sizeof buf - 14, fd);
}

// The child's error channel. Set once at the top of child_main.
extern int g_sync_fd;
// Set once the parent has been told READY: it may be gone, so errors go to stderr instead.
extern bool g_ready;

// glibc's set*id wrappers broadcast to every thread the parent had (nptl setxid); in the cloned
// child those threads do not exist, so the raw syscalls are the only safe form.
inline int raw_setresuid(uid_t u) { return (int)syscall(SYS_setresuid, u, u, u); }
inline int raw_setresgid(gid_t g) { return (int)syscall(SYS_setresgid, g, g, g); }
inline int raw_setgroups(size_t n, const gid_t* gids) { return (int)syscall(SYS_setgroups, n, gids); }

inline void sync_send(int fd, uint32_t type, int err, const char* step, const char* detail) {
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.err = err;
  copy_str(m.step, sizeof m.step, step);
  copy_str(m.detail, sizeof m.detail, detail);
  ssize_t r;
  do { r = send(fd, &m, sizeof m, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
}

// Waits for one message of the expected type; anything else (or EOF) ends the child.
inline bool sync_expect(int fd, uint32_t type) {
  SyncMsg m;
  ssize_t r;
  do { r = recv(fd, &m, sizeof m, 0); } while (r < 0 && errno == EINTR);
  return r == (ssize_t)sizeof m && m.type == type;
}

// The msghdr of one SCM_RIGHTS message, either way: one iovec and room for one fd.
inline void fd_msghdr(struct msghdr* msg, struct iovec* iov, char* cbuf, size_t cbuf_len) {
  memset(msg, 0, sizeof *msg);
  memset(cbuf, 0, cbuf_len);
  msg->msg_iov = iov;
  msg->msg_iovlen = 1;
  msg->msg_control = cbuf;
  msg->msg_controllen = cbuf_len;
}

// One message carrying `fd` as SCM_RIGHTS and `len` bytes of payload: how the pty master goes
// to a console socket and the seccomp listener to its agent. Returns 0 or -1 with errno.
inline int send_fd(int sock, int fd, const void* payload, size_t len) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {(void*)payload, len};
  struct msghdr msg;
  fd_msghdr(&msg, &iov, cbuf, sizeof cbuf);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t r;
  do { r = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

// Reports a failed setup step to the parent and exits. `err` is an errno value (0 for none).
[[noreturn]] inline void fail(const char* step, int err, const char* detail = nullptr) {
  if (!g_ready) {
    sync_send(g_sync_fd, SYNC_ERROR, err, step, detail ? detail : "");
    _exit(1);
  }
  char msg[512];
  copy_str(msg, sizeof msg, "skiff: container init: ");
  append_str(msg, sizeof msg, step);
  if (detail && *detail) { append_str(msg, sizeof msg, " "); append_str(msg, sizeof msg, detail); }
  if (err) { append_str(msg, sizeof msg, ": "); const char* d = strerrordesc_np(err); append_str(msg, sizeof msg, d ? d : "error"); }
  append_str(msg, sizeof msg, "\n");
  ssize_t ignored = write(2, msg, strlen(msg));
  (void)ignored;
  _exit(1);
}

}  // namespace skiff
