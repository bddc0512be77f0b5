{
  "targets": [
    {
      "target_name": "skiff",
      "sources": ["native/addon.cc", "native/plan_build.cc", "native/launch.cc", "native/process_attrs.cc", "native/pidfd.cc", "native/netdev.cc", "native/probe.cc", "native/mounts.cc", "native/mount_sources.cc", "native/mount_attrs.cc", "native/idmap.cc", "native/seccomp.cc", "native/seccomp_enosys.cc", "native/terminal.cc", "native/cgroup_bpf.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-Os", "-fno-exceptions", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-rtti"],
      "libraries": ["-lseccomp"],
      # Bun, unlike Node, has no libstdc++ loaded: linking in what the addon uses saves ~1.2 MiB
      # of RSS per command; unused sections are dropped so that what is linked in stays small
      # (every page the loader or a fault-around maps is RSS).
      "ldflags": ["-static-libstdc++", "-static-libgcc", "-Wl,--exclude-libs,ALL", "-Wl,--gc-sections"]
    }
  ]
}
