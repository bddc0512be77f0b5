#!/usr/bin/env python3
"""A console socket as containerd's shim serves it: accept one connection, receive the pty
master by SCM_RIGHTS with its name as payload, then copy the terminal's output to stdout
(and stdin, if any, to the terminal) until the pty closes. Prints 'NAME <name>' first."""
import array, os, socket, sys, select

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
master = fds[0]
print('NAME', msg.decode(), flush=True)
if len(sys.argv) > 2:
    os.write(master, sys.argv[2].encode())
while True:
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.write(data.decode(errors='replace'))
    sys.stdout.flush()
