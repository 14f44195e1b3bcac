"""The diagnostic ladder: the first thing that is wrong is what the student reads."""
import numpy as np
import pytest
import torch

from shared.compare import assert_close
from shared.feedback import Feedback


def message(actual, expected, **kw) -> str:
    with pytest.raises(Feedback) as info:
        assert_close(actual, expected, name="conv2d output", hint="think about dilation", **kw)
    return str(info.value)


def test_type_is_checked_first():
    text = message([1.0, 2.0], torch.ones(2))
    assert "your conv2d output is a list; expected a torch.Tensor" in text
    assert "Hint: think about dilation" in text


def test_dtype_then_shape_then_device():
    assert "dtype torch.float32; expected torch.float64" in message(torch.ones(2, 3), torch.ones(2, 3, dtype=torch.float64))
    assert "shape (2, 3); expected (3, 2)" in message(torch.ones(2, 3), torch.ones(3, 2))


def test_nan_where_finite_expected():
    actual = torch.tensor([1.0, float("nan"), 3.0])
    assert "1 NaN value(s)" in message(actual, torch.ones(3)) and "index (1)" in message(actual, torch.ones(3))


def test_values_report_errors_and_where():
    expected = torch.zeros(4, 4, dtype=torch.float64)
    actual = expected.clone()
    actual[2, 3] = 0.5
    text = message(actual, expected)
    assert "at 1 of 16 elements" in text
    assert "max abs error 0.5" in text
    assert "(2, 3)" in text and "yours 0.5, expected 0" in text


def test_close_values_pass_within_dtype_tolerance():
    x = torch.randn(100, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
    assert_close(x * (1 + 1e-6), x, name="out")
    with pytest.raises(Feedback):
        assert_close(x * (1 + 1e-2), x, name="out")


def test_numbers_tuples_and_arrays():
    assert "is 5; expected 6" in message(5, 6)
    assert "is a tuple; expected an int" in message((5, 5), 6)
    assert "has 1 elements; expected 2" in message((1,), (1, 2))
    assert "numpy.ndarray" in message(torch.ones(2, dtype=torch.float64), np.ones(2))
    assert_close(np.ones(3), np.ones(3), name="pd")


def test_int_tensors_compare_exactly():
    with pytest.raises(Feedback, match="at 1 of 3 elements"):
        assert_close(torch.tensor([1, 2, 4]), torch.tensor([1, 2, 3]), name="tokens")
