#!/usr/bin/env python3
"""A seccomp notify agent as runc's protocol defines it: accept a connection, receive the
listener fd (SCM_RIGHTS) and the container process state (JSON payload), print the state,
then answer every notification until the listener closes, printing the syscall number.

usage: seccomp-agent.py SOCKET [--continue] [--connections N]
  By default a notified call is answered with a fake success (val 0, error 0) without running.
  --continue lets each call run as if unfiltered (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
  --connections N: serve N connections (one listener each, e.g. run and then exec) side by
  side, and exit when all their listeners have closed (default 1)."""
import array, errno, fcntl, json, select, socket, struct, sys, threading

SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1

args = sys.argv[1:]
path = args[0]
cont = '--continue' in args
connections = int(args[args.index('--connections') + 1]) if '--connections' in args else 1
out = threading.Lock()


def say(line):
    with out:
        print(line, flush=True)


def serve(conn):
    fds = array.array('i')
    msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    say('STATE ' + json.dumps(json.loads(msg.decode())))
    listener = fds[0]
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    while True:
        events = dict(poller.poll()).get(listener, 0)
        if not events & select.POLLIN:
            break  # POLLHUP: every process the filter had is gone
        buf = bytearray(80)
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf)
        except OSError as e:
            if e.errno == errno.ENOENT:
                continue  # the caller was interrupted before we took its call
            break
        nid, pid, flags, nr = struct.unpack_from('=QIIi', buf, 0)
        say(f'NOTIF nr={nr}')
        resp = struct.pack('=QqiI', nid, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE if cont else 0)
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, bytearray(resp))
        except OSError:
            pass


srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(connections)
say('LISTENING')
threads = []
for _ in range(connections):
    conn, _ = srv.accept()
    t = threading.Thread(target=serve, args=(conn,))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
