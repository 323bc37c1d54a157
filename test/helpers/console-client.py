#!/usr/bin/env python3
"""A --console-socket client: listens on SOCK, receives the pty master (SCM_RIGHTS),
optionally types INPUT into it, and copies everything the container writes to stdout
until the container side closes (EIO). Used by the terminal tests."""
import os, socket, sys

sock_path, ready_path = sys.argv[1], sys.argv[2]
typed = sys.argv[3].encode() if len(sys.argv) > 3 else b''
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(1)
open(ready_path, 'w').close()
srv.settimeout(60)
conn, _ = srv.accept()
msg, fds, _flags, _addr = socket.recv_fds(conn, 256, 1)
if len(fds) != 1:
    sys.stderr.write('no fd received\n')
    sys.exit(2)
master = fds[0]
sys.stdout.write('fds=1 name=%s\n' % msg.decode(errors='replace'))
sys.stdout.flush()
if typed:
    os.write(master, typed)
while True:
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.write(data.decode(errors='replace'))
    sys.stdout.flush()
