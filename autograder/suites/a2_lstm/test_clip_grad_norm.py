"""Hidden tests for task 2.4, clip_grad_norm."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a2_lstm import hints
from shared.compare import assert_close, assert_true, assert_structure
from shared.devices import DEVICES
from shared.strategies import float_dtypes, randn, seeds, shapes
from shared.tolerances import Tol
from shared.i18n import N_


INF = math.inf
# max_norm as a multiple of the true total norm: well below (clipped) or above (left alone);
# never within rounding distance of 1.
ratios = st.sampled_from([0.01, 0.2, 0.7, 1.3, 5.0])


def _grads(seed, dtype, shape_list, device="cpu", scale=1.0):
    return [randn(s, seed + k, dtype, device, scale) for k, s in enumerate(shape_list)]


def _torch_clip(grads, max_norm, norm_type):
    """torch.nn.utils.clip_grad_norm_ on parameters whose .grad are copies of ``grads``:
    returns (total norm, clipped gradients)."""
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return total, [p.grad for p in params]


def _true_norm(grads, norm_type):
    return float(torch.nn.utils.get_total_norm(grads, norm_type))


def _check(student, grads, max_norm, norm_type):
    expected_total, expected_grads = _torch_clip(grads, max_norm, norm_type)
    mine = [g.clone() for g in grads]
    originals = list(mine)
    total = student.clip_grad_norm(mine, max_norm, norm_type)
    assert_true(isinstance(total, torch.Tensor), N_("your clip_grad_norm must return the total norm as a tensor."),
                hints.IN_PLACE)
    assert_close(total, expected_total, name=N_("total norm returned by clip_grad_norm"), hint=hints.NORM)
    for k, (g, e) in enumerate(zip(originals, expected_grads)):
        assert_close(g, e, name=N_("gradient {k} after clip_grad_norm").format(k=k), hint=hints.CLIP)


@pytest.mark.task("2.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "torch")
@settings(max_examples=15)
@given(seed=seeds, dtype=float_dtypes, shape_list=st.lists(shapes(1, 3, 1, 5), min_size=1, max_size=4),
       ratio=ratios)
def test_clip_grad_norm_l2_matches_torch(student, seed, dtype, shape_list, ratio):
    """2.4 clip_grad_norm (2-norm) matches torch.nn.utils.clip_grad_norm_"""
    grads = _grads(seed, dtype, shape_list, scale=3.0)
    _check(student, grads, ratio * _true_norm(grads, 2.0), 2.0)


@pytest.mark.task("2.4")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "torch", "inf norm")
@settings(max_examples=12)
@given(seed=seeds, dtype=float_dtypes, shape_list=st.lists(shapes(1, 3, 1, 5), min_size=1, max_size=4),
       ratio=ratios)
def test_clip_grad_norm_inf_matches_torch(student, seed, dtype, shape_list, ratio):
    """2.4 clip_grad_norm with norm_type=inf matches torch.nn.utils.clip_grad_norm_"""
    grads = _grads(seed, dtype, shape_list, scale=3.0)
    _check(student, grads, ratio * _true_norm(grads, INF), INF)


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "torch")
@pytest.mark.parametrize("norm_type", [1.0, 3.0], ids=["p1", "p3"])
def test_clip_grad_norm_other_p(student, norm_type):
    """2.4 clip_grad_norm with other p-norms (p = 1, 3) matches torch"""
    grads = _grads(141, torch.float64, [(4, 3), (5,), (2, 2, 2)])
    _check(student, grads, 0.5 * _true_norm(grads, norm_type), norm_type)


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "no clipping")
@pytest.mark.parametrize("norm_type", [2.0, INF], ids=["l2", "inf"])
def test_clip_grad_norm_below_max_norm(student, norm_type):
    """2.4 clip_grad_norm leaves gradients unchanged when the norm is below max_norm"""
    grads = _grads(151, torch.float32, [(3, 4), (6,)])
    max_norm = 2.0 * _true_norm(grads, norm_type)
    expected_total, _ = _torch_clip(grads, max_norm, norm_type)
    mine = [g.clone() for g in grads]
    total = student.clip_grad_norm(mine, max_norm, norm_type)
    assert_close(total, expected_total, name=N_("total norm returned by clip_grad_norm"), hint=hints.NORM)
    for k, (g, e) in enumerate(zip(mine, grads)):
        # exact: torch multiplies by a factor clamped to exactly 1.0
        assert_close(g, e, name=N_("gradient {k} (norm below max_norm)").format(k=k), hint=hints.NO_CLIP,
                     tol=Tol(0.0, 0.0))


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "in place")
@pytest.mark.parametrize("device", DEVICES)
def test_clip_grad_norm_in_place(student, device):
    """2.4 clip_grad_norm scales the given gradient tensors in place"""
    grads = _grads(161, torch.float32, [(5, 4), (7,), (2, 3)], device=device, scale=4.0)
    max_norm = 0.25 * _true_norm(grads, 2.0)
    expected_total, expected_grads = _torch_clip(grads, max_norm, 2.0)
    mine = [g.clone() for g in grads]
    originals = list(mine)
    total = student.clip_grad_norm(mine, max_norm)          # norm_type defaults to 2
    for k, (g, e) in enumerate(zip(originals, expected_grads)):
        assert_close(g, e, name=N_("gradient {k} (the tensor you were given) after clip_grad_norm").format(k=k),
                     hint=hints.IN_PLACE)
    assert_true(isinstance(total, torch.Tensor), N_("your clip_grad_norm must return the total norm as a tensor."),
                hints.IN_PLACE)
    assert_close(total, expected_total, name=N_("total norm returned by clip_grad_norm"), hint=hints.NORM)


@pytest.mark.task("2.4")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_clip_grad_norm_forbidden(student):
    """2.4 clip_grad_norm works without torch.nn.utils.clip_grad_norm_"""
    grads = _grads(171, torch.float32, [(3, 3), (4,)], scale=2.0)
    max_norm = 0.5 * _true_norm(grads, 2.0)
    expected_total, expected_grads = _torch_clip(grads, max_norm, 2.0)
    mine = [g.clone() for g in grads]
    with student.forbid("clip_grad_norm", *hints.CLIP_APIS):
        total = student.clip_grad_norm(mine, max_norm, 2.0)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(total, expected_total, name=N_("total norm returned by clip_grad_norm"), hint=hints.NORM)
