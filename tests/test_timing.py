"""The speed-check harness: interleaving, median ratio, and the budget that stops slow code."""
import time

import pytest

from shared.adapter import Staged
from shared.feedback import Feedback, StudentTimeout
from shared.timing import check_speed, measure


def sleeper(seconds: float, log: list, label: str) -> Staged:
    def run(timeout):
        log.append(label)
        if timeout is not None and seconds > timeout:
            time.sleep(timeout)
            raise StudentTimeout("conv2d", timeout)
        time.sleep(seconds)
    return Staged(run)


def test_rounds_are_interleaved_and_warmed_up():
    log = []
    report = measure("f", sleeper(0.002, log, "s"), sleeper(0.002, log, "r"), threshold=4, rounds=4, warmup=1)
    assert log[:2] == ["r", "s"]                       # warm-up: reference first, then the student
    assert log[2:] == ["r", "s", "s", "r", "r", "s", "s", "r"]
    assert len(report.student_s) == len(report.reference_s) == 4
    assert 0.3 < report.ratio < 3.0


def test_slow_student_fails_with_the_ratio_and_a_hint():
    with pytest.raises(Feedback) as info:
        check_speed("conv2d", sleeper(0.03, [], "s"), sleeper(0.002, [], "r"), threshold=4, rounds=3,
                    min_budget_s=1.0, hint="unfold and matmul")
    text = str(info.value)
    assert "conv2d is too slow" in text and "allowed 4x" in text and "unfold and matmul" in text


def test_runaway_student_is_stopped_by_the_budget():
    started = time.monotonic()
    with pytest.raises(Feedback, match="stopped after 0.5 s"):
        check_speed("conv2d", sleeper(30.0, [], "s"), sleeper(0.001, [], "r"), threshold=4, min_budget_s=0.5)
    assert time.monotonic() - started < 5


def test_fast_student_passes():
    report = check_speed("conv2d", sleeper(0.002, [], "s"), sleeper(0.004, [], "r"), threshold=4, rounds=3)
    assert report.ratio < 4


def test_fast_but_wrong_result_earns_nothing():
    """A function that returns rubbish quickly must not pass a speed check."""
    right = {"shape": [2, 3], "sum": 1.5, "abs": 4.0}
    reference = Staged(lambda timeout: right)
    wrong_values = Staged(lambda timeout: {"shape": [2, 3], "sum": -9.0, "abs": 11.0})
    nothing = Staged(lambda timeout: None)
    for student in (wrong_values, nothing):
        with pytest.raises(Feedback, match="different result from the reference"):
            check_speed("conv2d", student, reference, threshold=4)
    assert check_speed("conv2d", Staged(lambda timeout: dict(right)), reference, threshold=4).ratio > 0
