#!/usr/bin/env python3
"""The receiving end of a socket that a runtime sends one fd to by SCM_RIGHTS, with a name as
the message's payload: a --console-socket (the pty master) or a --pidfd-socket (a pidfd).

    fd-receiver.py console PATH [INPUT]   prints 'NAME <payload>', writes INPUT to the pty,
                                          then copies the terminal's output until it closes
    fd-receiver.py pidfd PATH [SIGNAL]    prints 'NAME <payload>' and 'PID <pid>' (fdinfo);
                                          with SIGNAL, sends it by the pidfd and prints
                                          'EXITED' once the process has exited

Prints 'LISTENING' once the socket is bound."""
import array, os, select, signal, socket, sys


def receive(path):
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
    print('NAME', msg.decode(), flush=True)
    return fds[0]


def console(master, text=None):
    if text:
        os.write(master, text.encode())
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        sys.stdout.write(data.decode(errors='replace'))
        sys.stdout.flush()


def pidfd(fd, sig=None):
    with open(f'/proc/self/fdinfo/{fd}') as f:
        pid = next(l.split()[1] for l in f if l.startswith('Pid:'))
    print('PID', pid, flush=True)
    if sig:
        signal.pidfd_send_signal(fd, int(sig))
        select.select([fd], [], [], 30)
        print('EXITED', flush=True)


mode, path, *rest = sys.argv[1:]
{'console': console, 'pidfd': pidfd}[mode](receive(path), *rest)
