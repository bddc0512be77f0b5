// The container's terminal (child side): a pty from the container's own devpts instance,
// /dev/console bound to it without following anything the rootfs planted (CVE-2025-52565),
// and the master handed to the console socket as one SCM_RIGHTS message whose payload is the
// pty's name, as containerd's shim expects.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "child_util.h"
#include "mounts.h"
#include "plan.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace skiff {

namespace {

void send_master(int sock, int master, const char* name) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {(void*)name, strlen(name)};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  ssize_t r;
  do { r = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
  if (r < 0) fail("send pty master to console socket", errno);
}

}  // namespace

int setup_terminal(const LaunchPlan& plan, int root_fd) {
  int ptmx = open_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (ptmx < 0) fail("open /dev/pts/ptmx (is devpts mounted at /dev/pts?)", errno, "/dev/pts/ptmx");
  int unlock = 0;
  if (ioctl(ptmx, TIOCSPTLCK, &unlock) != 0) fail("unlock pty", errno);
  unsigned int n = 0;
  if (ioctl(ptmx, TIOCGPTN, &n) != 0) fail("get pty number", errno);
  // The peer is opened through the master, never through a path the container controls.
  int slave = ioctl(ptmx, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("open pty slave", errno);
  if (plan.console_rows || plan.console_cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = plan.console_rows;
    ws.ws_col = plan.console_cols;
    if (ioctl(slave, TIOCSWINSZ, &ws) != 0) fail("set console size", errno);
  }
  if (plan.exec_mode) {
    // exec shares the container's /dev/console; only the init binds it.
    char name[32];
    copy_str(name, sizeof name, "/dev/pts/");
    format_int(name + 9, sizeof name - 9, (long)n);
    send_master(plan.console_fd, ptmx, name);
    close(ptmx);
    close(plan.console_fd);
    return slave;
  }
  // /dev/console: a plain file we create (O_NOFOLLOW, O_EXCL semantics via unlink) in the
  // container's /dev, with the slave bound over it.
  int dev = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dev < 0) fail("open /dev", errno, "/dev");
  if (unlinkat(dev, "console", 0) != 0 && errno != ENOENT) fail("remove /dev/console", errno, "/dev/console");
  int f = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (f < 0) fail("create /dev/console", errno, "/dev/console");
  close(f);
  int target = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0) fail("open /dev/console", errno, "/dev/console");
  close(dev);
  char src[40], dst[40];
  fd_path(src, slave);
  fd_path(dst, target);
  if (mount(src, dst, nullptr, MS_BIND, nullptr) != 0) fail("bind pty over /dev/console", errno, "/dev/console");
  close(target);
  char name[32];
  copy_str(name, sizeof name, "/dev/pts/");
  format_int(name + 9, sizeof name - 9, (long)n);
  send_master(plan.console_fd, ptmx, name);
  close(ptmx);
  close(plan.console_fd);
  return slave;
}

}  // namespace skiff
