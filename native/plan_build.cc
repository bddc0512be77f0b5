// The launch plan across the JS boundary, checked key by key (see plan_build.h).
#include "plan_build.h"

#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include <set>

namespace skiff {
namespace {

enum class Need { Required, Optional };

// One JS object of the plan. Each key is read once through it; done() then names any key
// that was not read (a misspelt or stale one). The first error wins and stops the reading.
class Fields {
 public:
  Fields(const Napi::Object& o, std::string where, std::string* error) : o_(o), where_(std::move(where)), error_(error) {}

  bool ok() const { return error_->empty(); }

  // The value under key, or an empty Value when optional and absent/undefined.
  Napi::Value get(const char* key, Need need) {
    read_.insert(key);
    if (!ok()) return Napi::Value();
    Napi::Value v = o_.Get(key);
    if (v.IsUndefined()) {
      if (need == Need::Required) fail(key, "is missing");
      return Napi::Value();
    }
    return v;
  }

  const char* str(PlanStorage& s, const char* key, Need need) {
    Napi::Value v = get(key, need);
    return v.IsEmpty() ? nullptr : str_value(s, v, key);
  }

  const char* str_value(PlanStorage& s, const Napi::Value& v, const std::string& key) {
    if (!v.IsString()) return fail(key, "is not a string"), nullptr;
    std::string text = v.As<Napi::String>().Utf8Value();
    if (text.find('\0') != std::string::npos) return fail(key, "holds a NUL byte"), nullptr;
    return s.keep(std::move(text));
  }

  bool boolean(const char* key, Need need) {
    Napi::Value v = get(key, need);
    if (v.IsEmpty()) return false;
    if (!v.IsBoolean()) return fail(key, "is not a boolean"), false;
    return v.As<Napi::Boolean>().Value();
  }

  // An integer in [lo, hi]: a Number with no fraction, or a BigInt that fits.
  int64_t integer(const char* key, Need need, int64_t lo, int64_t hi, int64_t dflt) {
    Napi::Value v = get(key, need);
    return v.IsEmpty() ? dflt : integer_value(v, key, lo, hi);
  }

  int64_t integer_value(const Napi::Value& v, const std::string& key, int64_t lo, int64_t hi) {
    int64_t n = 0;
    if (v.IsBigInt()) {
      bool lossless = false;
      n = v.As<Napi::BigInt>().Int64Value(&lossless);
      if (!lossless) return fail(key, "is out of range"), 0;
    } else if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      if (d != d || d < -9007199254740991.0 || d > 9007199254740991.0 || d != (double)(int64_t)d) return fail(key, "is not a safe integer"), 0;
      n = (int64_t)d;
    } else {
      return fail(key, "is not an integer"), 0;
    }
    if (n < lo || n > hi) return fail(key, "is out of range"), 0;
    return n;
  }

  // A 64-bit mask or limit: a BigInt, all 64 bits.
  uint64_t u64(const char* key) {
    Napi::Value v = get(key, Need::Required);
    if (v.IsEmpty()) return 0;
    if (!v.IsBigInt()) return fail(key, "is not a BigInt"), 0;
    bool lossless = false;
    uint64_t n = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) return fail(key, "is out of range"), 0;
    return n;
  }

  Napi::Array array(const char* key, Need need) {
    Napi::Value v = get(key, need);
    if (v.IsEmpty()) return Napi::Array();
    if (!v.IsArray()) return fail(key, "is not an array"), Napi::Array();
    return v.As<Napi::Array>();
  }

  // Element i of an array of objects, as Fields of its own.
  Fields element(const Napi::Array& a, const char* key, uint32_t i) {
    std::string where = where_ + "." + key + "[" + std::to_string(i) + "]";
    Napi::Value v = a.Get(i);
    if (!v.IsObject() && ok()) *error_ = where + ": is not an object";
    return Fields(v.IsObject() ? v.As<Napi::Object>() : Napi::Object::New(o_.Env()), where, error_);
  }

  // The object under key as Fields of its own; *present says whether it was there.
  Fields child(const char* key, Need need, bool* present) {
    Napi::Value v = get(key, need);
    *present = !v.IsEmpty();
    if (*present && !v.IsObject()) fail(key, "is not an object");
    bool obj = *present && v.IsObject();
    return Fields(obj ? v.As<Napi::Object>() : Napi::Object::New(o_.Env()), where_ + "." + key, error_);
  }

  void done() {
    if (!ok()) return;
    Napi::Array names = o_.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string k = names.Get(i).As<Napi::String>().Utf8Value();
      if (!read_.count(k)) return fail(k, "is not a key of the plan");
    }
  }

  void fail(const std::string& key, const char* why) {
    if (ok()) *error_ = where_ + "." + key + ": " + why;
  }

  const std::string& where() const { return where_; }

 private:
  Napi::Object o_;
  std::string where_;
  std::string* error_;
  std::set<std::string> read_;
};

const int64_t kU32 = 0xffffffffLL;
// The init keeps each idmapped tree's fd until it is attached (launch.cc's keep list).
const size_t kMaxIdmaps = 32;
const int64_t kI32 = 0x7fffffffLL;

// Calls fn(Fields&) for each object of the array under key, then checks it read every key.
template <typename Fn>
void EachElement(Fields& f, const char* key, Need need, Fn fn) {
  Napi::Array arr = f.array(key, need);
  for (uint32_t i = 0; f.ok() && !arr.IsEmpty() && i < arr.Length(); i++) {
    Fields e = f.element(arr, key, i);
    fn(e);
    e.done();
  }
}

void FillStrings(PlanStorage& s, Fields& f, const char* key, std::vector<const char*>& out, bool null_terminate) {
  Napi::Array arr = f.array(key, Need::Required);
  for (uint32_t i = 0; f.ok() && !arr.IsEmpty() && i < arr.Length(); i++) {
    out.push_back(f.str_value(s, arr.Get(i), std::string(key) + "[" + std::to_string(i) + "]"));
  }
  if (null_terminate) out.push_back(nullptr);
}

void ReadMounts(Fields& f, PlanStorage& s) {
  EachElement(f, "mounts", Need::Required, [&](Fields& m) {
    MountSpec ms;
    memset(&ms, 0, sizeof ms);
    ms.source = m.str(s, "source", Need::Optional);
    ms.destination = m.str(s, "destination", Need::Required);
    ms.fstype = m.str(s, "fstype", Need::Optional);
    ms.data = m.str(s, "data", Need::Optional);
    ms.flags = (unsigned long)m.integer("flags", Need::Required, 0, kU32, 0);
    ms.propagation = (unsigned long)m.integer("propagation", Need::Required, 0, kU32, 0);
    ms.remount = (unsigned long)m.integer("remount", Need::Required, 0, kU32, 0);
    ms.rec_attr_set = (uint64_t)m.integer("recAttrSet", Need::Required, 0, kU32, 0);
    ms.rec_attr_clr = (uint64_t)m.integer("recAttrClr", Need::Required, 0, kU32, 0);
    ms.tree_fd = -1;
    bool idmapped = false;
    Fields id = m.child("idmap", Need::Optional, &idmapped);
    if (idmapped) {
      const char* uid_map = id.str(s, "uidMap", Need::Required);
      const char* gid_map = id.str(s, "gidMap", Need::Required);
      bool recursive = id.boolean("recursive", Need::Required);
      id.done();
      if (s.idmaps.size() >= kMaxIdmaps) return m.fail("idmap", "is one idmapped mount too many (at most 32)");
      s.idmaps.push_back({s.mounts.size(), ms.source ? ms.source : "", uid_map ? uid_map : "", gid_map ? gid_map : "", recursive,
                           (ms.flags & MS_REC) != 0});
    }
    ms.bind = m.boolean("bind", Need::Required);
    ms.source_is_dir = m.boolean("sourceIsDir", Need::Required);
    s.mounts.push_back(ms);
  });
  s.plan.mounts = s.mounts.data();
  s.plan.nmounts = (int)s.mounts.size();
}

void ReadDevices(Fields& f, PlanStorage& s) {
  EachElement(f, "devices", Need::Required, [&](Fields& d) {
    DeviceSpec ds;
    ds.path = d.str(s, "path", Need::Required);
    ds.mode = (mode_t)d.integer("mode", Need::Required, 0, kU32, 0);
    unsigned major = (unsigned)d.integer("major", Need::Required, 0, 0xfff, 0);
    unsigned minor = (unsigned)d.integer("minor", Need::Required, 0, 0xfffff, 0);
    ds.dev = makedev(major, minor);
    ds.uid = (uid_t)d.integer("uid", Need::Required, 0, kU32, 0);
    ds.gid = (gid_t)d.integer("gid", Need::Required, 0, kU32, 0);
    ds.host_path = d.str(s, "hostPath", Need::Optional);
    s.devices.push_back(ds);
  });
  s.plan.devices = s.devices.data();
  s.plan.ndevices = (int)s.devices.size();
}

void ReadSysctlsAndRlimits(Fields& f, PlanStorage& s) {
  EachElement(f, "sysctls", Need::Required, [&](Fields& sc) {
    s.sysctls.push_back({sc.str(s, "path", Need::Required), sc.str(s, "value", Need::Required)});
  });
  s.plan.sysctls = s.sysctls.data();
  s.plan.nsysctls = (int)s.sysctls.size();
  EachElement(f, "rlimits", Need::Required, [&](Fields& r) {
    RlimitSpec spec;
    spec.resource = (int)r.integer("resource", Need::Required, 0, 63, 0);
    spec.soft = (rlim_t)r.u64("soft");
    spec.hard = (rlim_t)r.u64("hard");
    spec.name = r.str(s, "name", Need::Required);
    s.rlimits.push_back(spec);
  });
  s.plan.rlimits = s.rlimits.data();
  s.plan.nrlimits = (int)s.rlimits.size();
}

void ReadIdentity(Fields& f, PlanStorage& s) {
  LaunchPlan& p = s.plan;
  int64_t oom = f.integer("oomScoreAdj", Need::Optional, -1000, 1000, 1001);
  p.has_oom_score_adj = oom != 1001;
  p.oom_score_adj = p.has_oom_score_adj ? (int)oom : 0;
  p.uid = (uid_t)f.integer("uid", Need::Required, 0, kU32 - 1, 0);
  p.gid = (gid_t)f.integer("gid", Need::Required, 0, kU32 - 1, 0);
  Napi::Array gids = f.array("gids", Need::Required);
  for (uint32_t i = 0; f.ok() && i < gids.Length(); i++) {
    s.gids.push_back((gid_t)f.integer_value(gids.Get(i), "gids[" + std::to_string(i) + "]", 0, kU32 - 1));
  }
  p.gids = s.gids.data();
  p.ngids = (int)s.gids.size();
  p.umask = (int)f.integer("umask", Need::Optional, 0, 0777, -1);
  bool has_caps = false;
  Fields c = f.child("caps", Need::Optional, &has_caps);
  p.has_caps = has_caps;
  if (has_caps) {
    p.caps = {c.u64("bounding"), c.u64("effective"), c.u64("permitted"), c.u64("inheritable"), c.u64("ambient")};
    c.done();
  }
  p.cap_last_cap = (int)f.integer("capLastCap", Need::Required, 0, 63, 0);
  p.no_new_privs = f.boolean("noNewPrivs", Need::Required);
  p.apparmor_profile = f.str(s, "apparmorProfile", Need::Optional);
  p.selinux_label = f.str(s, "selinuxLabel", Need::Optional);
}

void ReadHooks(Fields& f, PlanStorage& s, const char* key, std::vector<HookSpec>& out) {
  EachElement(f, key, Need::Optional, [&](Fields& h) {
    s.hook_arrays.emplace_back();
    FillStrings(s, h, "args", s.hook_arrays.back(), true);
    const char* const* argv = s.hook_arrays.back().data();
    s.hook_arrays.emplace_back();
    FillStrings(s, h, "env", s.hook_arrays.back(), true);
    const char* path = h.str(s, "path", Need::Required);
    int timeout = (int)h.integer("timeout", Need::Required, 0, kI32, 0);
    out.push_back({path, argv, s.hook_arrays.back().data(), timeout});
  });
}

void ReadSeccompAndTerminal(Fields& f, PlanStorage& s) {
  LaunchPlan& p = s.plan;
  Napi::Value seccomp = f.get("seccompFilter", Need::Optional);
  if (!seccomp.IsEmpty()) {
    if (!seccomp.IsBuffer()) return f.fail("seccompFilter", "is not a Buffer");
    Napi::Buffer<uint8_t> b = seccomp.As<Napi::Buffer<uint8_t>>();
    // sock_fprog.len is 16 bits: a longer program must not wrap into a short one.
    if (b.Length() % 8 != 0 || b.Length() / 8 > 0xffff) return f.fail("seccompFilter", "is not a BPF program of at most 65535 instructions");
    s.seccomp.assign(b.Data(), b.Data() + b.Length());
    p.seccomp_filter = s.seccomp.data();
    p.seccomp_len = (unsigned short)(s.seccomp.size() / 8);  // sizeof(struct sock_filter)
  }
  p.seccomp_flags = (unsigned int)f.integer("seccompFlags", Need::Optional, 0, kU32, 0);
  p.seccomp_listener_sock = (int)f.integer("seccompListenerFd", Need::Optional, 0, kI32, -1);
  p.terminal = f.boolean("terminal", Need::Optional);
  p.console_fd = (int)f.integer("consoleFd", Need::Optional, 0, kI32, -1);
  p.console_rows = (unsigned short)f.integer("consoleRows", Need::Optional, 0, 0xffff, 0);
  p.console_cols = (unsigned short)f.integer("consoleCols", Need::Optional, 0, 0xffff, 0);
}

void ReadJoins(Fields& f, PlanStorage& s) {
  EachElement(f, "joins", Need::Required, [&](Fields& j) {
    int type = (int)j.integer("type", Need::Required, 0, kI32, 0);
    const char* path = j.str(s, "path", Need::Required);
    if (path) s.joins.emplace_back(type, path);
  });
}

// processAttrs: every key optional, each one a kernel attribute the child applies.
void ReadProcessAttrs(Fields& f, PlanStorage& s) {
  ProcessAttrs& a = s.plan.attrs;
  bool present = false;
  Fields o = f.child("processAttrs", Need::Required, &present);
  bool has_sched = false;
  Fields sc = o.child("scheduler", Need::Optional, &has_sched);
  a.has_sched = has_sched;
  if (has_sched) {
    a.sched.policy = (uint32_t)sc.integer("policy", Need::Required, 0, 6, 0);
    a.sched.nice = (int32_t)sc.integer("nice", Need::Required, -20, 19, 0);
    a.sched.priority = (uint32_t)sc.integer("priority", Need::Required, 0, 99, 0);
    a.sched.flags = sc.u64("flags");
    a.sched.runtime = sc.u64("runtime");
    a.sched.deadline = sc.u64("deadline");
    a.sched.period = sc.u64("period");
    a.sched.what = sc.str(s, "what", Need::Required);
    sc.done();
  }
  int64_t ioprio = o.integer("ioPriority", Need::Optional, 0, 0xffff, -1);
  a.has_ioprio = ioprio >= 0;
  a.ioprio = a.has_ioprio ? (int)ioprio : 0;
  int64_t persona = o.integer("personality", Need::Optional, 0, kU32, -1);
  a.has_personality = persona >= 0;
  a.personality = a.has_personality ? (unsigned long)persona : 0;
  bool has_mpol = false;
  Fields mp = o.child("memoryPolicy", Need::Optional, &has_mpol);
  a.has_mempolicy = has_mpol;
  if (has_mpol) {
    a.mempolicy_mode = (int)mp.integer("mode", Need::Required, 0, 0xffff, 0);
    Napi::Value mask = mp.get("nodemask", Need::Required);
    if (!mask.IsEmpty() && (!mask.IsBuffer() || mask.As<Napi::Buffer<uint8_t>>().Length() % 8 != 0)) {
      mp.fail("nodemask", "is not a Buffer of 64-bit words");
    } else if (!mask.IsEmpty()) {
      Napi::Buffer<uint8_t> b = mask.As<Napi::Buffer<uint8_t>>();
      s.nodemask.resize(b.Length() / sizeof(unsigned long));
      memcpy(s.nodemask.data(), b.Data(), b.Length());
    }
    a.maxnode = (unsigned long)mp.integer("maxnode", Need::Required, 0, 1024, 0);
    if (a.maxnode > s.nodemask.size() * 64) mp.fail("maxnode", "is past the end of nodemask");
    a.nodemask = s.nodemask.empty() ? nullptr : s.nodemask.data();
    mp.done();
  }
  o.done();
}

}  // namespace

bool BuildPlan(const Napi::Object& o, PlanStorage& s, std::string* error) {
  LaunchPlan& p = s.plan;
  memset(&p, 0, sizeof p);
  error->clear();
  Fields f(o, "plan", error);
  p.exec_mode = f.boolean("execMode", Need::Required);
  p.clone_flags = (unsigned long)f.integer("cloneFlags", Need::Required, 0, kU32, 0);
  // A cgroup namespace is rooted where its creator stands: create it only once the init is in
  // the container's cgroups (on v1 the parent moves it there after clone).
  p.unshare_cgroupns = (p.clone_flags & CLONE_NEWCGROUP) != 0;
  p.clone_flags &= ~(unsigned long)CLONE_NEWCGROUP;
  p.unshare_timens = (p.clone_flags & CLONE_NEWTIME) != 0;
  p.clone_flags &= ~(unsigned long)CLONE_NEWTIME;
  ReadJoins(f, s);
  p.pid_ns_fd = -1;
  p.new_mount_ns = f.boolean("newMountNs", Need::Required);
  p.host_mount_ns = f.boolean("hostMountNs", Need::Required);
  p.rootfs = f.str(s, "rootfs", Need::Required);
  p.rootfs_readonly = f.boolean("rootfsReadonly", Need::Required);
  p.rootfs_propagation = (unsigned long)f.integer("rootfsPropagation", Need::Required, 0, kU32, 0);
  p.no_pivot = f.boolean("noPivot", Need::Required);
  ReadMounts(f, s);
  p.setup_dev = f.boolean("setupDev", Need::Required);
  ReadDevices(f, s);
  FillStrings(s, f, "maskedPaths", s.masked, false);
  p.masked_paths = s.masked.data();
  p.nmasked = (int)s.masked.size();
  FillStrings(s, f, "readonlyPaths", s.readonly, false);
  p.readonly_paths = s.readonly.data();
  p.nreadonly = (int)s.readonly.size();
  ReadSysctlsAndRlimits(f, s);
  p.in_userns = f.boolean("inUserns", Need::Required);
  p.hostname = f.str(s, "hostname", Need::Optional);
  p.domainname = f.str(s, "domainname", Need::Optional);
  p.keyring_name = f.str(s, "keyringName", Need::Optional);
  p.time_offsets = f.str(s, "timeOffsets", Need::Optional);
  ReadProcessAttrs(f, s);
  ReadIdentity(f, s);
  p.cwd = f.str(s, "cwd", Need::Required);
  FillStrings(s, f, "args", s.argv, true);
  p.argv = s.argv.data();
  FillStrings(s, f, "env", s.envp, true);
  p.envp = s.envp.data();
  p.path_env = f.str(s, "pathEnv", Need::Optional);
  p.preserve_fds = (int)f.integer("preserveFds", Need::Required, 0, 1 << 20, 0);
  ReadHooks(f, s, "createContainerHooks", s.create_hooks);
  ReadHooks(f, s, "startContainerHooks", s.start_hooks);
  p.create_container_hooks = s.create_hooks.data();
  p.ncreate_container_hooks = (int)s.create_hooks.size();
  p.start_container_hooks = s.start_hooks.data();
  p.nstart_container_hooks = (int)s.start_hooks.size();
  ReadSeccompAndTerminal(f, s);
  // The state dir's file names come from the TypeScript store, the one place that names them.
  const char* state_dir = f.str(s, "stateDir", Need::Required);
  s.state_dir = state_dir ? state_dir : "";
  p.fifo_name = f.str(s, "fifoName", Need::Required);
  p.hook_state_name = f.str(s, "hookStateName", Need::Required);
  p.seccomp_state_name = f.str(s, "seccompStateName", Need::Required);
  s.cgroup_fd = (int)f.integer("cgroupFd", Need::Optional, 0, kI32, -1);
  f.done();
  return f.ok();
}

}  // namespace skiff
