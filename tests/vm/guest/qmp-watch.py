#!/usr/bin/env python3
"""Watch the amdkfd-mc device's QOM counters over QMP while a guest runs.

    qmp-watch.py SOCKET LOG OUT

Connects to QEMU's QMP socket SOCKET (retrying while QEMU starts), reads
the counters of /machine/peripheral/akmc every 0.2 s and keeps their
largest values; when the guest's serial log LOG shows "@@AKMC-PAUSE" (its
tests are done and it waits), reads them once more, writes

    guest-memory-bytes max=N final=N
    live-objects max=N final=N
    live-contexts max=N final=N

to OUT and tells QEMU to quit.  Exits when QEMU goes away.
"""
import json
import os
import socket
import sys
import time

COUNTERS = ("guest-memory-bytes", "live-objects", "live-contexts")


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.recv()                       # the greeting
        self.cmd("qmp_capabilities")

    def recv(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name,
                                      "arguments": args}).encode() + b"\n")
        while True:
            msg = self.recv()
            if "return" in msg or "error" in msg:
                return msg


def main():
    path, log, out = sys.argv[1:4]
    deadline = time.time() + 600
    while True:
        try:
            qmp = Qmp(path)
            break
        except (OSError, EOFError):
            if time.time() > deadline:
                return 1
            time.sleep(0.1)
    top = {c: 0 for c in COUNTERS}
    last = dict(top)
    try:
        while True:
            for c in COUNTERS:
                r = qmp.cmd("qom-get", path="/machine/peripheral/akmc",
                            property=c)
                if "return" in r:
                    last[c] = r["return"]
                    top[c] = max(top[c], last[c])
            try:
                with open(log, "rb") as f:
                    paused = b"@@AKMC-PAUSE" in f.read()
            except OSError:
                paused = False
            if paused:
                with open(out + ".tmp", "w") as f:
                    for c in COUNTERS:
                        f.write("%s max=%d final=%d\n" % (c, top[c], last[c]))
                os.rename(out + ".tmp", out)
                qmp.cmd("quit")
                return 0
            time.sleep(0.2)
    except (OSError, EOFError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
