"""The performance check: time the student against the reference on the same inputs.

Both sides run through adapters of the same kind (two workers when grading, two
in-process modules under plain pytest), so both pay the same call overhead.  Against the
ways a speed check can be gamed or can fail honest code on a busy machine:

* every timed round gets fresh argument objects with new values (the floating-point
  inputs are scaled a little differently each round), and every round's result must match
  the reference's fingerprint on the same round: caching a result earns nothing;
* a round's cost is the CPU time of the side's whole process tree where the grader can
  measure it (a busy machine does not slow it down, helper processes are charged), and
  every process of the student is frozen while the reference is timed;
* rounds are interleaved, there is a warm-up, the verdict is the ratio of the fastest
  student round to the fastest reference round, and a verdict close to the threshold is
  measured again before it counts (a clear pass, at most half the threshold after three
  rounds, stops there: the rounds differ by noise, not by a factor of two);
* the student is stopped once a single call exceeds its time budget.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils._pytree import tree_map

from shared.feedback import Feedback, StudentTimeout
from shared.fingerprint import same_result
from shared.i18n import _


@dataclass
class SpeedReport:
    name: str
    reference_s: list[float]
    student_s: list[float]
    threshold: float

    @property
    def ratio(self) -> float:
        return min(self.student_s) / max(min(self.reference_s), 1e-9)

    def summary(self) -> str:
        return _("{name}: {student_ms:.2f} ms vs the reference's {reference_ms:.2f} ms (fastest of {rounds} "
                 "rounds), ratio {ratio:.2f}x (allowed {threshold:g}x)").format(
            name=self.name, student_ms=min(self.student_s) * 1e3, reference_ms=min(self.reference_s) * 1e3,
            rounds=len(self.student_s), ratio=self.ratio, threshold=self.threshold)


def variant(args, kwargs, k: int):
    """Fresh copies of the arguments for round ``k``: floating-point tensors and arrays
    are scaled by ``1 - k/64`` (round 0 keeps the values)."""
    factor = 1.0 - k / 64.0

    def fresh(leaf):
        if isinstance(leaf, torch.Tensor):
            t = leaf.detach().clone()
            return t.mul_(factor) if k and t.dtype.is_floating_point else t
        if isinstance(leaf, np.ndarray):
            a = leaf.copy()
            return a * factor if k and a.dtype.kind == "f" else a
        return leaf
    return tree_map(fresh, (args, kwargs))


def measure(name: str, student, reference, args=(), kwargs=None, *, threshold: float, rounds: int = 5,
            warmup: int = 1, vary: bool = True, see: str | None = None, min_budget_s: float = 2.0,
            budget_factor: float = 3.0, max_budget_s: float = 60.0, confirm: bool = True,
            clear: float | None = 0.5, min_rounds: int = 3) -> SpeedReport:
    """``student`` and ``reference`` are timers (``run(args, kwargs, timeout) -> (seconds,
    fingerprint)`` and ``frozen()``) of adapters of the same kind.  A clear pass (a ratio
    at most ``clear`` times the threshold after ``min_rounds`` rounds) stops early: further
    rounds move the fastest times by the noise between rounds, far less than the factor
    that separates the ratio from the threshold; a fail or a close call gets every round."""
    kwargs = kwargs or {}
    budget = max_budget_s
    ref_t = 0.0

    def run_reference(a, kw):
        with student.frozen():                   # nothing of the student's runs meanwhile
            return reference.run(*variant(a, kw, 0), None)

    def run_student(a, kw):
        try:
            return student.run(*variant(a, kw, 0), budget)
        except StudentTimeout:
            raise Feedback(_("{name} was stopped after {budget:.1f} s in the speed check; the reference takes "
                             "{reference_ms:.1f} ms on the same input (allowed {threshold:g}x).").format(
                               name=name, budget=budget, reference_ms=ref_t * 1e3, threshold=threshold),
                           _("vectorize: replace Python loops over elements, pixels, batch items or heads "
                             "with batched tensor operations")) from None

    def check(stu_print, ref_print, first: bool) -> None:
        if not same_result(stu_print, ref_print):
            if first and see is not None:
                text = _("not timed: {name} returned a wrong result on the speed-check input (its first call), "
                         "see {see}; speed only counts for a correct result.")
            elif first:
                text = _("not timed: {name} returned a wrong result on the speed-check input (its first call); "
                         "speed only counts for a correct result.")
            elif see is not None:
                text = _("not timed: {name} returned a wrong result on the speed-check input, see {see}; "
                         "speed only counts for a correct result.")
            else:
                text = _("not timed: {name} returned a wrong result on the speed-check input; speed only counts "
                         "for a correct result.")
            raise Feedback(text.format(name=name, see=see),
                           _("make the correctness tests of this function pass first; a result must be computed "
                             "from the arguments of each call"))

    for _round in range(warmup):           # (not `_`: that is the translation function here)
        a, kw = variant(args, kwargs, 0)
        ref_t, ref_print = run_reference(a, kw)
        budget = min(max_budget_s, max(min_budget_s, budget_factor * threshold * ref_t))
        check(run_student(a, kw)[1], ref_print, True)

    ref_times, stu_times = [], []

    def timed_rounds(first_k: int, n: int, stop_when_clear: bool = False) -> None:
        for i in range(n):
            a, kw = variant(args, kwargs, first_k + i if vary else 0)
            if i % 2:
                stu, ref = run_student(a, kw), run_reference(a, kw)
            else:
                ref, stu = run_reference(a, kw), run_student(a, kw)
            check(stu[1], ref[1], False)
            ref_times.append(ref[0])
            stu_times.append(stu[0])
            if stop_when_clear and clear is not None and len(stu_times) >= min_rounds and \
                    SpeedReport(name, ref_times, stu_times, threshold).ratio <= clear * threshold:
                return

    timed_rounds(1, rounds, stop_when_clear=True)
    report = SpeedReport(name, ref_times, stu_times, threshold)
    if confirm and 0.7 * threshold <= report.ratio <= 1.5 * threshold:
        timed_rounds(rounds + 1, rounds)         # a close call is measured again before it counts
    return report


def check_speed(name: str, student, reference, args=(), kwargs=None, *, threshold: float,
                hint: str | None = None, **options) -> SpeedReport:
    try:
        report = measure(name, student, reference, args, kwargs, threshold=threshold, **options)
    finally:
        for timer in (student, reference):
            with contextlib.suppress(Exception):
                timer.close()
    if report.ratio > threshold:
        raise Feedback(_("{name} is too slow: {summary}.").format(name=name, summary=report.summary()),
                       hint or _("vectorize: avoid Python loops over tensor elements"))
    return report


