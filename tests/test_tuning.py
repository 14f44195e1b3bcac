"""Settings of the grader's long-lived processes (shared/tuning.py) and the zygote's wait
for a worker's exit (autograder/sandbox/zygote.py): a grading process stops two workers
per submission and waits for each to be gone."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from autograder import ROOT
from autograder.sandbox.zygote import _status

FAULTS = r"""
import resource, sys, torch
from shared.tuning import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
def rounds(n):                                    # what a grading process does all the time: build and
    for _ in range(n):                            # drop tensors of a few MB (one above glibc's 32 MB)
        for mb in (8, 24, 2, 48):
            torch.empty(mb << 18).fill_(1.0)
rounds(10)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_freed_memory_is_reused_instead_of_faulted_in_again():
    default, kept = _faults("default"), _faults("keep")
    assert default > 20 * 10_000                  # the 48 MB block mapped and faulted in again every round
    assert kept < default / 20                    # the same blocks reused from the heap


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
def test_on_cpu_moves_the_process_and_back():
    code = ("import os; from shared.tuning import on_cpu, ALL_CPUS\n"
            "cpu = ALL_CPUS[-1]; on_cpu(cpu); one = os.sched_getaffinity(0)\n"
            "on_cpu(None); print(one == {cpu}, os.sched_getaffinity(0) == set(ALL_CPUS))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True"], out.stderr


def _child(seconds: float, code: int) -> int:
    pid = os.fork()
    if pid == 0:
        time.sleep(seconds)
        os._exit(code)
    return pid


def test_zygote_status_returns_when_the_worker_exits():
    pid = _child(0.3, 3)
    started = time.monotonic()
    assert _status(pid, 10.0) == (True, 3)
    assert time.monotonic() - started < 5.0       # the exit ends the wait, not the 10 s allowed


def test_zygote_status_gives_up_after_the_wait():
    pid = _child(30, 0)
    try:
        started = time.monotonic()
        assert _status(pid, 0.2) == (False, None)
        assert 0.15 < time.monotonic() - started < 5.0
    finally:
        os.kill(pid, 9)
        assert _status(pid, 10.0) == (True, -9)


def test_zygote_status_of_a_process_that_is_not_its_child():
    assert _status(1, 0.1) == (True, None)        # not ours: nothing to wait for
