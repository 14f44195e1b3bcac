"""The speed-check harness: fresh inputs every round, every round's result checked, the
student frozen while the reference is timed, a load-robust verdict, a budget for slow code."""
import contextlib
import time

import pytest
import torch

from shared.feedback import Feedback, StudentTimeout
from shared.fingerprint import checksum
from shared.timing import check_speed, measure, variant


class FakeTimer:
    """A side of a speed check whose cost per call is ``seconds`` and whose result is
    ``fn(args)``; records what it saw."""

    def __init__(self, label, seconds, fn=lambda x: x * 2, log=None):
        self.label, self.seconds, self.fn = label, seconds, fn
        self.log = log if log is not None else []
        self.frozen_count = 0
        self.seen = []

    def run(self, args, kwargs, timeout):
        self.log.append(self.label)
        self.seen.append(args[0])
        if timeout is not None and self.seconds > timeout:
            raise StudentTimeout("conv2d", timeout)
        return self.seconds, checksum(self.fn(*args, **kwargs))

    @contextlib.contextmanager
    def frozen(self):
        self.frozen_count += 1
        self.log.append(f"freeze-{self.label}")
        yield
        self.log.append(f"thaw-{self.label}")

    def close(self):
        pass


X = (torch.arange(12.0).reshape(3, 4),)


def test_rounds_are_interleaved_warmed_up_and_the_student_is_frozen_for_the_reference():
    log = []
    student, reference = FakeTimer("s", 0.002, log=log), FakeTimer("r", 0.002, log=log)
    report = measure("f", student, reference, X, threshold=4, rounds=4, warmup=1, confirm=False, clear=None)
    runs = [e for e in log if e in ("s", "r")]
    assert runs[:2] == ["r", "s"]                                   # warm-up: reference first
    assert runs[2:] == ["r", "s", "s", "r", "r", "s", "s", "r"]
    assert log.count("freeze-s") == 5 and all(log[log.index("r", i) - 1] == "freeze-s"
                                              for i in range(len(log)) if log[i] == "r")
    assert len(report.student_s) == len(report.reference_s) == 4


def test_every_round_gets_new_objects_with_new_values():
    student, reference = FakeTimer("s", 0.001), FakeTimer("r", 0.001)
    measure("f", student, reference, X, threshold=4, rounds=3, confirm=False)
    seen = student.seen
    assert len({id(t) for t in seen}) == len(seen) and all(t is not X[0] for t in seen)
    assert len({float(t.sum()) for t in seen[1:]}) == len(seen) - 1     # each timed round differs
    assert all(torch.equal(s, r) for s, r in zip(student.seen, reference.seen))   # both sides: same inputs


def test_a_memoised_result_fails_on_the_next_round():
    cache = {}

    def memo(x):                       # returns the first answer for every later call
        return cache.setdefault("out", x * 2)
    with pytest.raises(Feedback, match="not timed: conv2d returned a wrong result"):
        check_speed("conv2d", FakeTimer("s", 0.001, memo), FakeTimer("r", 0.001), X, threshold=4, rounds=3)


def test_a_wrong_result_is_not_timed_and_points_at_the_failing_test():
    with pytest.raises(Feedback) as info:
        check_speed("conv2d", FakeTimer("s", 0.001, lambda x: x * 3), FakeTimer("r", 0.001), X, threshold=4,
                    see='"1.4 conv2d matches F.conv2d"')
    assert "not timed" in str(info.value) and '"1.4 conv2d matches F.conv2d"' in str(info.value)
    assert "too slow" not in str(info.value)


def test_slow_student_fails_with_the_ratio_and_a_hint():
    with pytest.raises(Feedback) as info:
        check_speed("conv2d", FakeTimer("s", 0.03), FakeTimer("r", 0.002), X, threshold=4, rounds=3,
                    hint="unfold and matmul")
    text = str(info.value)
    assert "conv2d is too slow" in text and "allowed 4x" in text and "unfold and matmul" in text and "15.00x" in text


def test_verdict_uses_the_fastest_rounds_and_remeasures_a_close_call():
    times = iter([0.010] + [0.040, 0.009, 0.050, 0.009, 0.009, 0.009, 0.009, 0.009, 0.009, 0.009, 0.009])

    class Noisy(FakeTimer):
        def run(self, args, kwargs, timeout):
            self.seen.append(args[0])
            return next(times), checksum(args[0] * 2)
    student, reference = Noisy("s", 0), FakeTimer("r", 0.003)
    report = measure("f", student, reference, X, threshold=4, rounds=5, warmup=1)
    assert report.ratio == pytest.approx(0.009 / 0.003)             # the slow outliers do not count
    assert len(report.student_s) == 10                              # 3.0x is within 30% of 4x: measured again


def test_a_clear_pass_stops_after_three_rounds_and_anything_else_gets_every_round():
    def rounds_of(student_s: float, reference_s: float = 0.004) -> int:
        student, reference = FakeTimer("s", student_s), FakeTimer("r", reference_s)
        report = measure("f", student, reference, X, threshold=4, rounds=5, warmup=1)
        assert len(student.seen) == len(reference.seen) == 1 + len(report.student_s)   # warm-up + timed
        return len(report.student_s)
    assert rounds_of(0.004) == 3                 # ratio 1.0: at most half of 4x after three rounds
    assert rounds_of(0.0084) == 5                # ratio 2.1: not clear, every round
    assert rounds_of(0.016) == 10                # ratio 4.0: a close call, measured twice
    with pytest.raises(Feedback, match="too slow"):
        check_speed("f", FakeTimer("s", 0.040), FakeTimer("r", 0.004), X, threshold=4)


def test_runaway_student_is_stopped_by_the_budget():
    started = time.monotonic()
    with pytest.raises(Feedback, match="stopped after 0.5 s"):
        check_speed("conv2d", FakeTimer("s", 30.0), FakeTimer("r", 0.001), X, threshold=4, min_budget_s=0.5)
    assert time.monotonic() - started < 5


def test_fast_student_passes():
    report = check_speed("conv2d", FakeTimer("s", 0.002), FakeTimer("r", 0.004), X, threshold=4, rounds=3)
    assert report.ratio == pytest.approx(0.5) and "ratio 0.50x" in report.summary()


def test_variants_keep_integer_and_bool_inputs_and_scale_floats():
    args = (torch.ones(3), torch.tensor([1, 2]), torch.tensor([True, False]))
    (a, b, c), _ = variant(args, {}, 8)
    assert torch.allclose(a, torch.full((3,), 1 - 8 / 64)) and torch.equal(b, args[1]) and torch.equal(c, args[2])
    assert a is not args[0] and b is not args[1]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64])
def test_the_fingerprint_agrees_with_a_float64_computation(dtype):
    # the fast path (float64 accumulation without a float64 copy, one dot product) must say
    # what the plain float64 formulas say
    t = (torch.randn(3, 1000, generator=torch.Generator().manual_seed(3)) * 50).to(dtype)
    (got,) = checksum(t)
    x = t.to(torch.float64).reshape(-1)
    weights = torch.cos(torch.arange(x.numel(), dtype=torch.float64) * 0.7071)
    assert got["shape"] == [3, 1000] and got["nonfinite"] == 0
    assert got["sum"] == pytest.approx(float(x.sum()), rel=1e-9, abs=1e-6)
    assert got["abs"] == pytest.approx(float(x.abs().sum()), rel=1e-9)
    # (the float32 pattern of a float32 result is the float64 one to about 1e-4 at this length)
    assert got["weighted"] == pytest.approx(float((x * weights).sum()), abs=2e-4 * float(x.abs().sum()))


def test_the_fingerprint_counts_non_finite_values_and_sums_the_rest():
    t = torch.tensor([1.0, float("nan"), -2.0, float("inf"), 4.0])
    (got,) = checksum(t)
    assert got["nonfinite"] == 2
    assert got["sum"] == 3.0 and got["abs"] == 7.0


def test_the_fingerprint_tells_a_shifted_or_permuted_result_from_the_right_one():
    from shared.fingerprint import same_result
    t = torch.randn(64, 256, generator=torch.Generator().manual_seed(5))
    right = checksum(t)
    assert same_result(checksum(t.clone()), right)
    for wrong in (t.roll(1), t.flip(0), t.t().contiguous().reshape(64, 256), t[torch.randperm(64, generator=torch.Generator().manual_seed(1))]):
        assert not same_result(checksum(wrong), right)
