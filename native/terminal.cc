// The container's terminal (child side): a pty from the container's own devpts instance,
// /dev/console bound to it without following anything the rootfs planted (CVE-2025-52565),
// and the master handed to the console socket as one SCM_RIGHTS message whose payload is the
// master's name, "/dev/ptmx", as runc sends it (containerd's shim reads only the fd).
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

// The master goes to the console socket with runc's payload: the name of the file it was
// opened as (runc's console.Name() of /dev/ptmx), not the slave's /dev/pts/N.
void send_master(const LaunchPlan& plan, int master) {
  static const char kName[] = "/dev/ptmx";
  if (send_fd(plan.console_fd, master, kName, sizeof kName - 1) != 0) fail("send pty master to console socket", errno);
  close(master);
  close(plan.console_fd);
}

}  // namespace

int setup_terminal(const LaunchPlan& plan, int root_fd) {
  int ptmx = open_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (ptmx < 0) fail("open /dev/pts/ptmx (is devpts mounted at /dev/pts?)", errno, "/dev/pts/ptmx");
  int unlock = 0;
  if (ioctl(ptmx, TIOCSPTLCK, &unlock) != 0) fail("unlock pty", errno);
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
    send_master(plan, ptmx);
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
  send_master(plan, ptmx);
  return slave;
}

}  // namespace skiff
