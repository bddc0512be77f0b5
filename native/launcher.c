// build/skiff: the command engines and users run. It sets the JavaScriptCore options Skiff
// runs with and execs the Bun-compiled Skiff beside it (build/skiff-bun), in the same process.
// JSC reads its options from the environment before any JavaScript runs, and a compiled
// executable cannot carry them, hence this file.
//
// BUN_JSC_useJIT=0: a command is done in milliseconds, before JIT-compiled code pays for
// itself, and the JIT's start-up alone costs every command 2.2 MiB of RSS and 1.5 ms of CPU
// (measured: `state` 6.7 -> 5.2 ms of CPU, `run` 34.7 -> 32.6 MiB of peak RSS).
//
// No libc (x86-64 only, as Bun's package is): glibc's static start-up alone takes 0.7 ms, this
// file's exec 0.1 ms. A variable the caller set is left as it is; the names set here are listed
// in SKIFF_LAUNCHER_SET, and Skiff removes them again (scripts/skiff-entry.js) so that nothing
// it starts inherits them.
#define PATH_CAP 4096

static const char* const kOptions[] = {"BUN_JSC_useJIT=0"};
#define NOPTIONS (sizeof kOptions / sizeof kOptions[0])

static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
enum { SYS_write = 1, SYS_execve = 59, SYS_readlink = 89, SYS_exit_group = 231 };

static unsigned long len(const char* s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}
// Whether env entry e names the same variable as option o ("NAME=...").
static int same_name(const char* e, const char* o) {
  while (*o && *o != '=' && *e == *o) e++, o++;
  return *o == '=' && *e == '=';
}
static void say(const char* s) { sys3(SYS_write, 2, (long)s, (long)len(s)); }

__attribute__((noreturn, used)) void launcher_main(long* sp) {
  long argc = sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  static char exe[PATH_CAP + 16];
  long n = sys3(SYS_readlink, (long)"/proc/self/exe", (long)exe, PATH_CAP);
  if (n <= 0) {
    say("skiff: cannot find its own executable (/proc/self/exe)\n");
    sys3(SYS_exit_group, 1, 0, 0);
  }
  long slash = n;
  while (slash > 0 && exe[slash - 1] != '/') slash--;
  const char* name = "skiff-bun";
  for (int i = 0; name[i]; i++) exe[slash + i] = name[i];
  exe[slash + 9] = '\0';

  unsigned long nenv = 0;
  while (envp[nenv]) nenv++;
  char* env[nenv + NOPTIONS + 2];
  static char set[256] = "SKIFF_LAUNCHER_SET=";
  unsigned long setlen = len(set), k = 0;
  for (unsigned long i = 0; i < nenv; i++) env[k++] = envp[i];
  for (unsigned long o = 0; o < NOPTIONS; o++) {
    int given = 0;
    for (unsigned long i = 0; i < nenv && !given; i++) given = same_name(envp[i], kOptions[o]);
    if (given) continue;
    env[k++] = (char*)kOptions[o];
    if (set[setlen - 1] != '=') set[setlen++] = ',';
    for (const char* c = kOptions[o]; *c != '=' && setlen < sizeof set - 1; c++) set[setlen++] = *c;
  }
  set[setlen] = '\0';
  if (set[setlen - 1] != '=') env[k++] = set;
  env[k] = 0;
  long err = sys3(SYS_execve, (long)exe, (long)argv, (long)env);
  say("skiff: cannot run ");
  say(exe);
  say(err == -2 ? ": no such file\n" : err == -13 ? ": permission denied\n" : ": exec failed\n");
  sys3(SYS_exit_group, 127, 0, 0);
  __builtin_unreachable();
}

// The kernel starts us with argc, argv and envp on the stack: hand them to launcher_main.
__asm__(".text\n.global _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call launcher_main\n  hlt\n");
