// The sync protocol between the runtime (parent, Node) and the container init (child, C++ only).
// A SOCK_SEQPACKET socketpair carries fixed-size messages; each side checks the type it expects.
#pragma once
#include <stdint.h>

namespace skiff {

enum SyncType : uint32_t {
  // parent -> child: uid/gid maps written and cgroups joined; go on with setup.
  SYNC_GO = 1,
  // child -> parent: mounts done, before pivot_root: run prestart/createRuntime hooks now.
  SYNC_CREATE_RUNTIME = 2,
  // parent -> child: the runtime-namespace hooks have run; go on.
  SYNC_HOOKS_DONE = 3,
  // child -> parent: the container is set up and waits on the exec fifo.
  SYNC_READY = 4,
  // child -> parent: setup failed at `step`; the child exits right after.
  SYNC_ERROR = 5,
  // parent -> child: state.json names the container; stop dying with the runtime, close the
  // socket (the runtime waits for that EOF before it exits).
  SYNC_COMMIT = 6,
  // child -> parent, a rootless exec only: the pid (in `err`) of the process that replaces
  // the child, forked into the container's pid namespace (launch.cc enter_pid_ns_by_fork).
  SYNC_PID = 7,
};

struct SyncMsg {
  uint32_t type;
  int32_t err;        // errno of the failed step, 0 if none
  char step[64];      // e.g. "mount proc on /proc"
  char detail[256];   // a short, human detail (path, value)
};

}  // namespace skiff
