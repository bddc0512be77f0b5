#!/usr/bin/env python3
"""A seccomp notify agent as runc's protocol defines it: accept one connection, receive the
listener fd (SCM_RIGHTS) and the container process state (JSON payload), print the state,
then answer every notification with a fake success (val 0, error 0) without running the
call, printing the syscall number, until the listener closes."""
import array, fcntl, json, os, socket, struct, sys

SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(1)
print('LISTENING', flush=True)
conn, _ = srv.accept()
fds = array.array('i')
msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:fds.itemsize])
print('STATE ' + json.dumps(json.loads(msg.decode())), flush=True)
listener = fds[0]
while True:
    buf = bytearray(80)
    try:
        fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf)
    except OSError:
        break
    nid, pid, flags, nr = struct.unpack_from('=QIIi', buf, 0)
    print(f'NOTIF nr={nr}', flush=True)
    resp = struct.pack('=QqiI', nid, 0, 0, 0)
    try:
        fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, bytearray(resp))
    except OSError:
        pass
