"""Process settings of the grader's long-lived processes (the warm process, the zygote),
inherited by every process forked from them.

Freed memory kept for reuse (glibc's malloc).  By default glibc gives a freed block of
more than a few MB back to the kernel at once (it was mmap'ed for that one allocation, or
it trims the heap), so a process that builds and drops tensors of a few MB, over and
over, pays page faults for every one of them: a grading process took 55,000 minor faults
per a1 submission, two thirds of them for memory it had just freed.  With fixed
thresholds the blocks stay in the heap and are reused (the same grading process: 21,000
faults; a warm batch about 8% faster per submission).  The student's and the reference's workers get the same
setting, so a speed ratio is not changed by it; blocks above ``mmap_threshold`` are still
mapped for themselves, so a worker's address-space limit sees no more than before for a
very large tensor.

A lane's forks on the lane's core: the warm process and the zygote serve every lane of
a batch; each fork (the copy of the page tables, the child's first steps before it pins
itself) runs on the core of the lane that asked for it, not on another lane's core while
that lane's timed rounds run.
"""
from __future__ import annotations

import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
ALL_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def keep_freed_memory(mmap_threshold: int = 64 << 20, trim_threshold: int = 128 << 20) -> bool:
    """True when glibc took the setting (False elsewhere: musl, macOS)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, int(mmap_threshold))
                    and libc.mallopt(M_TRIM_THRESHOLD, int(trim_threshold)))
    except (OSError, AttributeError):
        return False


def on_cpu(cpu: int | None) -> None:
    """Run this process on ``cpu`` from now on (None: on any core it started with)."""
    try:
        os.sched_setaffinity(0, {int(cpu)} if cpu is not None else ALL_CPUS)
    except (OSError, ValueError, TypeError, AttributeError):
        pass
