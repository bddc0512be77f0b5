{
  "targets": [
    {
      "target_name": "skiff",
      "sources": ["native/addon.cc", "native/plan_build.cc", "native/launch.cc", "native/process_attrs.cc", "native/pidfd.cc", "native/netdev.cc", "native/probe.cc", "native/mounts.cc", "native/seccomp.cc", "native/terminal.cc", "native/cgroup_bpf.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-rtti"],
      "libraries": ["-lseccomp"]
    }
  ]
}
