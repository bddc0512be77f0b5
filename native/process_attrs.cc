// The process's kernel attributes and the time namespace, applied in the cloned child: raw
// syscalls on the plan's prebuilt values only (design.md section 2). They run before READY,
// so whatever the kernel refuses is a `create` (or `exec`) error, and survive execve. The
// scheduler and the personality are set with the last steps (become_process, tried in its
// throwaway fork first): a SCHED_DEADLINE task may not fork, and the init still forks for
// hooks and that trial; hooks run with the runtime's personality, not the container's.
#include <fcntl.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child_util.h"
#include "plan.h"

namespace skiff {
namespace {

// <uapi/linux/sched/types.h>, SCHED_ATTR_SIZE_VER1: with the utilization clamps.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

const int kIoprioWhoProcess = 1;  // IOPRIO_WHO_PROCESS
const uint64_t kUtilClampMax = 0x40;  // SCHED_FLAG_UTIL_CLAMP_MAX

void set_scheduler(const SchedSpec& s) {
  SchedAttr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.sched_policy = s.policy;
  attr.sched_flags = s.flags;
  attr.sched_nice = s.nice;
  attr.sched_priority = s.priority;
  attr.sched_runtime = s.runtime;
  attr.sched_deadline = s.deadline;
  attr.sched_period = s.period;
  // The spec has the clamp flags but no values: a clamp asked for spans the whole range
  // (min 0, max SCHED_CAPACITY_SCALE), the default, rather than pinning the task's max at 0.
  if (s.flags & kUtilClampMax) attr.sched_util_max = 1024;
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) fail("sched_setattr", errno, s.what);
}

}  // namespace

void apply_exec_attrs(const LaunchPlan& plan) {
  const ProcessAttrs& a = plan.attrs;
  if (a.has_personality && syscall(SYS_personality, a.personality) < 0)
    fail("personality", errno, "linux.personality");
  if (a.has_sched) set_scheduler(a.sched);
}

void enter_time_namespace(const LaunchPlan& plan) {
  // unshare moves only our future children; execve moves us. The offsets must be written
  // while no process is in the namespace yet.
  if (unshare(CLONE_NEWTIME) != 0) fail("unshare time namespace", errno);
  if (!plan.time_offsets) return;
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open /proc/self/timens_offsets", errno);
  size_t len = strlen(plan.time_offsets);
  if (write(fd, plan.time_offsets, len) != (ssize_t)len) fail("set time namespace offsets", errno, plan.time_offsets);
  close(fd);
}

void apply_process_attrs(const LaunchPlan& plan) {
  const ProcessAttrs& a = plan.attrs;
  if (a.has_mempolicy && syscall(SYS_set_mempolicy, a.mempolicy_mode, a.nodemask, a.maxnode) != 0)
    fail("set_mempolicy", errno, "linux.memoryPolicy");
  if (a.has_ioprio && syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, a.ioprio) != 0)
    fail("ioprio_set", errno, "process.ioPriority");
}

}  // namespace skiff
