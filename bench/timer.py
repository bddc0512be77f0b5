#!/usr/bin/python3
# bench/run.js's stopwatch. It starts once and runs every timed command itself: posix_spawn
# and wait4 give each command's wall time, its CPU time and its peak RSS (ru_maxrss covers
# the command and every descendant it waited for, as runc's `runc init` or Skiff's init), and
# no JavaScript event loop sits between the clock and the process.
# Protocol: one JSON request per line on the request fifo, one JSON answer per line back.
#   {"argv": [...], "env": {...}[, "capture": true]}   -> {"ms", "cpu", "rss", "status"[, "stdout"]}
#   {"churn": [[argv, argv, ...], ...], "workers": N}  -> {"ms", "failed", "rss"}
import json
import os
import sys
import threading
import time

DEVNULL = [(os.POSIX_SPAWN_OPEN, fd, '/dev/null', os.O_RDWR, 0) for fd in (0, 1, 2)]


def run(argv, env, capture=False):
    actions = DEVNULL
    if capture:
        r, w = os.pipe()
        actions = [DEVNULL[0], (os.POSIX_SPAWN_DUP2, w, 1), DEVNULL[2], (os.POSIX_SPAWN_CLOSE, r)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
    out = b''
    if capture:
        os.close(w)
        while chunk := os.read(r, 65536):
            out += chunk
        os.close(r)
    _, status, ru = os.wait4(pid, 0)
    ms = (time.perf_counter_ns() - t0) / 1e6
    a = {'ms': ms, 'cpu': (ru.ru_utime + ru.ru_stime) * 1000, 'rss': ru.ru_maxrss,
         'status': os.waitstatus_to_exitcode(status)}
    if capture:
        a['stdout'] = out.decode('utf8', 'replace')
    return a


def churn(jobs, workers, env):
    lock = threading.Lock()
    todo = list(jobs)
    out = {'failed': 0, 'rss': 0}

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                job = todo.pop(0)
            for argv in job:
                r = run(argv, env)
                with lock:
                    out['rss'] = max(out['rss'], r['rss'])
                    if r['status'] != 0:
                        out['failed'] += 1
                        break

    t0 = time.perf_counter_ns()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out['ms'] = (time.perf_counter_ns() - t0) / 1e6
    return out


def main():
    with open(sys.argv[1], 'r') as req, open(sys.argv[2], 'w') as resp:
        for line in req:
            q = json.loads(line)
            env = q.get('env') or dict(os.environ)
            a = churn(q['churn'], q['workers'], env) if 'churn' in q else run(q['argv'], env, q.get('capture', False))
            resp.write(json.dumps(a) + '\n')
            resp.flush()


main()
