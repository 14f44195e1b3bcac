"""The worker protocol: the one contract between the trusted grader and a student worker.

Both sides import this module (the worker from its private copy of ``shared/``).

Framing: every message is one frame, an 8-byte little-endian length and the payload.
The grader's side reads and writes with a deadline (a worker that stops reading or
writing cannot stall it) and refuses frames over a size cap; the worker's side blocks.
(``multiprocessing.connection`` has no deadline on writes, hence this small framing.)

Payloads: requests from the grader are pickles (the worker trusts the grader); replies
are :mod:`shared.wire` (a JSON header plus raw buffers: the grader never unpickles).
Every request, call-back and reply carries the id of the call it belongs to; a frame
out of step ends the worker.

Errors the student's code causes travel as ``{"kind", "type", "message", "where"}``;
:func:`describe_error` builds that dict (in the worker, and in-process) and
:func:`to_feedback` turns it into the student-facing exception on the trusted side.
"""
from __future__ import annotations

import errno
import os
import select
import struct
import time
import traceback

from shared.feedback import (BadReturn, MissingFunction, NotImplementedYet, StudentCodeError, StudentCrashed,
                             StudentRaised)
from shared.i18n import _

# ---- operations (requests) -----------------------------------------------------------
CALL = "call"                  # run a function / method / constructor once
BACKWARD = "backward"          # vector-Jacobian product of an earlier call (autograd across the boundary)
PREPARE = "prepare"            # unpickle the arguments of a timed round (not timed)
RUN = "run"                    # run the prepared round (timed) and reply with a result fingerprint
PING = "ping"                  # nothing: once answered, the worker has blocked (its CPU time is accounted)
CALLBACK_RESULT = "callback_result"
CALLBACK_ERROR = "callback_error"
EXIT = "exit"

# ---- error kinds (replies) -----------------------------------------------------------
MISSING, NOTIMPL, BADRETURN, MEMORY, NOSPACE, RAISED, PROTOCOL = (
    "missing", "notimpl", "badreturn", "memory", "nospace", "raised", "protocol")

HEADER = struct.Struct("<Q")
MAX_FRAME = 256 << 20          # bytes: a reply larger than this is refused
DISK_MB = 256                  # scratch space of a worker (see autograder/sandbox/jail.py)


class ProtocolError(Exception):
    """A frame that breaks the protocol (too large, malformed, out of step)."""


class Deadline(Exception):
    """The other side did not read or write in time."""


class Channel:
    """Frames over two pipe ends.  ``deadline`` (a ``time.monotonic()`` value) bounds a
    send or a receive; ``None`` blocks (the worker's side)."""

    def __init__(self, rfd: int, wfd: int, *, nonblocking: bool = False):
        self.rfd, self.wfd = rfd, wfd
        if nonblocking:
            os.set_blocking(rfd, False)
            os.set_blocking(wfd, False)

    def _wait(self, fd: int, writable: bool, deadline: float | None, alive=None) -> None:
        if deadline is None:
            return
        poller = select.poll()
        poller.register(fd, select.POLLOUT if writable else select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Deadline
            if poller.poll(min(left, 0.5) * 1000):
                return
            if alive is not None and not alive():
                raise EOFError

    def send(self, data: bytes, deadline: float | None = None, alive=None) -> None:
        view = memoryview(HEADER.pack(len(data)) + data)
        while view:
            self._wait(self.wfd, True, deadline, alive)
            try:
                n = os.write(self.wfd, view)
            except BlockingIOError:
                continue
            view = view[n:]

    def _read(self, n: int, deadline: float | None, alive) -> bytes:
        chunks, got = [], 0
        while got < n:
            self._wait(self.rfd, False, deadline, alive)
            try:
                chunk = os.read(self.rfd, min(n - got, 1 << 22))
            except BlockingIOError:
                continue
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self, deadline: float | None = None, *, max_bytes: int = MAX_FRAME, alive=None) -> bytes:
        (n,) = HEADER.unpack(self._read(HEADER.size, deadline, alive))
        if n > max_bytes:
            raise ProtocolError(f"a reply of {n} bytes (at most {max_bytes})")
        return self._read(n, deadline, alive)

    def close(self) -> None:
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass


# ---- errors --------------------------------------------------------------------------
def where_in(tb, student_file: str | None) -> str:
    """'(line N of your <file>: <code>)' for the deepest frame inside the student's file."""
    if not student_file:
        return ""
    base = os.path.basename(student_file)
    found = ""
    for frame in traceback.extract_tb(tb):
        if os.path.basename(frame.filename) == base:
            found = f"(line {frame.lineno} of your {base}: {(frame.line or '').strip()})"
    return found


def describe_error(exc: BaseException, student_file: str | None = None) -> dict:
    """The transportable description of an exception raised by student code."""
    if isinstance(exc, NotImplementedError):
        kind = NOTIMPL
    elif isinstance(exc, MemoryError):
        kind = MEMORY
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        kind = NOSPACE
    else:
        kind = RAISED
    return {"kind": kind, "type": type(exc).__name__, "message": str(exc)[:500],
            "where": where_in(exc.__traceback__, student_file)}


def to_feedback(name: str, err: dict, module: str = "your module") -> StudentCodeError:
    """The student-facing exception for an error description (trusted side)."""
    kind = err.get("kind")
    message = str(err.get("message", ""))[:500]
    if kind == MISSING:
        return MissingFunction(name, module)
    if kind == NOTIMPL:
        return NotImplementedYet(name, message)
    if kind == BADRETURN:
        return BadReturn(name, message)
    if kind == MEMORY:
        return StudentRaised(name, "MemoryError", _("the memory limit was exceeded"), str(err.get("where", "")))
    if kind == NOSPACE:
        return StudentRaised(name, str(err.get("type", "OSError")),
                             _("{message} (your code has {disk_mb} MiB of scratch space in all, and one file may "
                               "hold at most 64 MiB)").format(message=message, disk_mb=DISK_MB),
                             str(err.get("where", "")))
    if kind == RAISED:
        return StudentRaised(name, str(err.get("type", "Error"))[:80], message, str(err.get("where", ""))[:400])
    return StudentCrashed(name, _("the grader could not read what your code sent back ({detail})").format(
        detail=message or kind))
