"""The performance check: time the student against the reference on the same inputs.

Both sides run through adapters of the same kind (two workers when grading, two
in-process modules under plain pytest), so both pay the same call overhead.  Rounds
are interleaved (reference, student, student, reference, ...) so that a noisy
neighbour slows both, there is a warm-up, the verdict uses the median ratio, and the
student is stopped once a single call exceeds its time budget.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from shared.adapter import Staged
from shared.feedback import Feedback, StudentTimeout


@dataclass
class SpeedReport:
    name: str
    reference_s: list[float]
    student_s: list[float]
    threshold: float

    @property
    def ratio(self) -> float:
        return statistics.median(s / r for s, r in zip(self.student_s, self.reference_s))

    def summary(self) -> str:
        return (f"{self.name}: median {statistics.median(self.student_s) * 1e3:.1f} ms vs reference "
                f"{statistics.median(self.reference_s) * 1e3:.1f} ms, ratio {self.ratio:.2f}x "
                f"(allowed {self.threshold:g}x, {len(self.student_s)} rounds)")


def _timed(staged: Staged, timeout: float | None, fingerprints: list | None = None) -> float:
    start = time.perf_counter()
    fingerprint = staged.run(timeout)
    elapsed = time.perf_counter() - start
    if fingerprints is not None:
        fingerprints.append(fingerprint)
    return elapsed


def same_result(student: dict | None, reference: dict | None, rtol: float = 1e-3) -> bool:
    """Do two result fingerprints (see shared.adapter.checksum) agree?"""
    if reference is None:
        return True                       # nothing to compare (e.g. the function returns no tensor)
    if student is None or student.get("shape") != reference.get("shape"):
        return False
    scale = max(reference["abs"], 1e-12)
    return (abs(student["sum"] - reference["sum"]) <= rtol * scale
            and abs(student["abs"] - reference["abs"]) <= rtol * scale)


def measure(name: str, student: Staged, reference: Staged, *, threshold: float, rounds: int = 5,
            warmup: int = 1, min_budget_s: float = 2.0, budget_factor: float = 3.0,
            max_budget_s: float = 60.0) -> SpeedReport:
    """Interleaved timing.  The budget for one student call is
    ``max(min_budget_s, budget_factor * threshold * reference_time)``: a call that
    slow has already failed, so it is stopped instead of waited for."""
    ref_prints, stu_prints = [], []
    for _ in range(warmup):
        ref_t = _timed(reference, None, ref_prints)
    budget = min(max_budget_s, max(min_budget_s, budget_factor * threshold * ref_t))
    for _ in range(warmup):
        try:
            _timed(student, budget, stu_prints)
        except StudentTimeout:
            raise Feedback(
                f"{name} was stopped after {budget:.1f} s in the speed check; the reference takes "
                f"{ref_t * 1e3:.1f} ms on the same input (allowed {threshold:g}x).",
                "vectorize: replace Python loops over elements, pixels, batch items or heads "
                "with batched tensor operations") from None
    if stu_prints and ref_prints and not same_result(stu_prints[-1], ref_prints[-1]):
        raise Feedback(f"{name} returned a different result from the reference on the speed-check input, "
                       "and speed only counts for a correct result.",
                       "make the correctness tests for this function pass first")
    ref_times, stu_times = [], []
    for i in range(rounds):
        order = ((reference, ref_times, None), (student, stu_times, budget))
        for staged, sink, limit in (order if i % 2 == 0 else order[::-1]):
            try:
                sink.append(_timed(staged, limit))
            except StudentTimeout:
                raise Feedback(f"{name} was stopped after {budget:.1f} s in the speed check "
                               f"(reference: {ref_t * 1e3:.1f} ms).",
                               "vectorize the loops in your implementation") from None
    return SpeedReport(name, ref_times, stu_times, threshold)


def check_speed(name: str, student: Staged, reference: Staged, *, threshold: float,
                hint: str | None = None, **kwargs) -> SpeedReport:
    try:
        report = measure(name, student, reference, threshold=threshold, **kwargs)
    finally:
        student.close()
        reference.close()
    if report.ratio > threshold:
        raise Feedback(f"{name} is too slow: {report.summary()}.",
                       hint or "vectorize: avoid Python loops over tensor elements")
    return report
