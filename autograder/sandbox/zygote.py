"""The zygote: imports torch once, then forks one worker per request.

Started by the grader (``autograder/isolation/zygote.py``) from a private copy of this
package and of ``shared/``, never from the grader's tree.  Requests arrive on a unix
socket: a JSON config plus three descriptors (requests in, replies out, the worker's
stdout/stderr); replies are ``{"pid"}`` or ``{"status"}``.  A grading process attaches a
connection of its own (``{"attach"}`` plus a socket); the workers forked on a connection's
requests are killed when it closes, so several submissions can share one zygote and
nothing of one survives it.  Forking a process that has
only *imported* torch (no thread pool started yet) is safe; each child confines itself
(:mod:`.jail`) before it imports the student's module (:mod:`.serve`).
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import selectors
import signal
import socket
import sys
import time

from shared.tuning import keep_freed_memory, on_cpu


def serve_zygote(control_fd: int) -> None:
    keep_freed_memory()                  # inherited by every worker, the student's and the reference's alike
    import numpy  # noqa: F401
    import numpy.random  # noqa: F401  (seeded before every call)
    import torch  # noqa: F401
    # torch imports these lazily, sympy on the first meta-tensor shape check (0.2 s a worker
    # if every worker paid it)
    import torch.fx.experimental.symbolic_shapes  # noqa: F401
    import torch.utils.serialization  # noqa: F401
    import shared
    import shared.fingerprint  # noqa: F401
    import shared.optrace  # noqa: F401
    import shared.protocol  # noqa: F401
    import shared.wire  # noqa: F401
    from . import jail, serve  # noqa: F401
    import importlib
    import pkgutil
    for info in pkgutil.iter_modules(shared.__path__):     # the trusted classes arguments may hold (models,
        importlib.import_module(f"shared.{info.name}")     # strategies): the worker refuses new imports of shared
    with shared.optrace.OpTrace(("conv2d",), ("aten::convolution",)):   # its first use sets up the mode
        torch.ones(1).add(1)                                            # machinery: once, here, not per worker
    # not torch._dynamo (0.65 s on every batch's start): the rare worker that needs it (an
    # optimizer, torch.compile) imports it itself (tests/test_isolation.py)
    try:
        import pyseccomp  # noqa: F401
    except ImportError:
        pass
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)          # PR_SET_PDEATHSIG: die with the grader
    primary = socket.socket(fileno=control_fd)
    # every connection owns the workers forked on its requests: a grading process attaches
    # one of its own (``{"attach"}`` with a socket), and when it closes, its workers die
    connections: dict[socket.socket, set[int]] = {primary: set()}
    selector = selectors.DefaultSelector()
    selector.register(primary, selectors.EVENT_READ)
    while True:
        for key, _events in selector.select():
            control = key.fileobj
            try:
                data, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
            except OSError:
                data, fds = b"", []
            if not data:
                if control is primary:
                    os._exit(0)              # the grader is gone (the workers follow: PDEATHSIG)
                selector.unregister(control)
                _kill(connections.pop(control))
                control.close()
                continue
            try:
                _answer(control, json.loads(data), fds, connections, selector)
            except OSError:
                pass                         # the asker is gone; its EOF comes next


def _answer(control, request: dict, fds: list[int], connections: dict, selector) -> None:
    children = connections[control]
    if "attach" in request:
        for fd in fds:
            conn = socket.socket(fileno=fd)
            connections[conn] = set()
            selector.register(conn, selectors.EVENT_READ)
        control.send(b'{"attached": true}')
        return
    if "killall" in request:
        _kill(children)
        control.send(b'{"killed": true}')
        return
    if "status" in request:
        gone, status = _status(request["status"], request.get("wait", 0))
        if gone:
            children.discard(request["status"])       # reaped: its pid may be reused
        control.send(json.dumps({"status": status}).encode())
        return
    on_cpu(request.get("cpu"))           # the fork's work on the asking lane's core (shared/tuning.py)
    pid = os.fork()
    if pid == 0:
        selector.close()                 # no worker learns when others are asked for
        for conn in connections:
            conn.close()
        _worker(request, fds)
    for fd in fds:
        os.close(fd)
    children.add(pid)
    control.send(json.dumps({"pid": pid}).encode())


def _kill(children: set[int]) -> None:
    for child in list(children):
        try:
            os.kill(child, signal.SIGKILL)
        except OSError:
            pass
    for child in list(children):
        _status(child, 2.0)
    children.clear()


def _status(pid: int, wait: float) -> tuple[bool, int | None]:
    """(reaped or not ours, exit code or None), waiting up to ``wait`` seconds for the exit.
    The wait ends when the child exits (a pidfd turns readable), not at the next tick of a
    poll: a grading process asks this for every worker it stops, and the zygote answers
    no other lane meanwhile."""
    deadline = time.monotonic() + wait
    pidfd = None
    try:
        while True:
            try:
                done, raw = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return True, None
            if done:
                return True, os.waitstatus_to_exitcode(raw)
            left = deadline - time.monotonic()
            if left <= 0:
                return False, None
            if pidfd is None:
                try:
                    pidfd = os.pidfd_open(pid)
                except (AttributeError, OSError):          # before Linux 5.3: a short poll
                    pidfd = -1
            if pidfd >= 0:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(0.002, left))
    finally:
        if pidfd is not None and pidfd >= 0:
            os.close(pidfd)


def _worker(config: dict, fds: list[int]) -> None:
    from shared import protocol
    from . import jail, serve
    try:
        os.setsid()
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)      # die with the zygote
        os.dup2(fds[2], 1)
        os.dup2(fds[2], 2)
        os.close(fds[2])
        os.environ.update({"HOME": config["workdir"], "TMPDIR": config["workdir"]})
        import tempfile
        tempfile.tempdir = None          # the zygote's cached one is its library: read-only in the sandbox
        import torch
        threads = int(config.get("threads", 1))
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            pass
        chan = protocol.Channel(fds[0], fds[1])
        enforced = jail.enter(config)      # as root this forks: we go on as PID 1 of a new namespace
        serve.main(config, chan, enforced)
    except BaseException as exc:           # nothing may escape into the zygote's loop
        try:
            print(f"worker failed to start: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            os._exit(4)
    os._exit(0)


if __name__ == "__main__":
    serve_zygote(int(sys.argv[1]))
