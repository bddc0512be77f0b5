#!/usr/bin/env python3
"""A --pidfd-socket listener: accept one connection, receive the pidfd by SCM_RIGHTS, print
'NAME <payload>' and 'PID <pid>' (from its fdinfo), then, if a signal number is given, send
it through the pidfd and print 'EXITED' once the pidfd says the process has exited."""
import array, os, select, signal, socket, sys

path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print('LISTENING', flush=True)
conn, _ = srv.accept()
fds = array.array('i')
msg, anc, _, _ = conn.recvmsg(256, socket.CMSG_SPACE(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:fds.itemsize])
pidfd = fds[0]
print('NAME', msg.decode(), flush=True)
with open(f'/proc/self/fdinfo/{pidfd}') as f:
    pid = next(l.split()[1] for l in f if l.startswith('Pid:'))
print('PID', pid, flush=True)
if len(sys.argv) > 2:
    signal.pidfd_send_signal(pidfd, int(sys.argv[2]))
    select.select([pidfd], [], [], 30)
    print('EXITED', flush=True)
