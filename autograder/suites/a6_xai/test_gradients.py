"""Part 3: saliency (3.1), Integrated Gradients (3.2) and Grad-CAM (3.3)."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import models_a6
from autograder.suites.a6_xai.strategies import one_thread  # noqa: F401  (fixture)
from shared.compare import assert_close, assert_true
from shared.devices import DEVICES
from shared.strategies import float_dtypes, randint, randn, seeds
from shared.i18n import N_

pytestmark = [pytest.mark.usefixtures("one_thread")]

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
ABS_HINT = N_("saliency is the absolute value |d y_target / d x| of the gradient (take abs of every element)")
IG_BASELINE_HINT = N_("IG multiplies the averaged path gradient by (x - baseline), and the path runs "
                      "baseline + alpha (x - baseline); the baseline is zeros only when it is None")
CAM_HINT = N_("alpha_k is the average (mean) of d y_target / d A_k over the H' x W' positions; "
              "cam = sum_k alpha_k A_k, then ReLU when relu=True")


def _target(kind, B, classes, seed):
    return randint((B,), seed, 0, classes) if kind == "tensor" else int(seed % classes)


def _rows(target, B):
    return target if isinstance(target, torch.Tensor) else torch.full((B,), target, dtype=torch.long)


def _steps(method, K):
    """Captum's step sizes s_k and path points a_k as closed forms (see the handout)."""
    k = torch.arange(K, dtype=torch.float64)
    s = torch.full((K,), 1.0 / K, dtype=torch.float64)
    if method == "riemann_trapezoid":
        s[0] = s[-1] = 0.5 / K
        return s, k / (K - 1)
    shift = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    return s, (k + shift) / K


# ---- 3.1 saliency -----------------------------------------------------------------------
@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=6)
@given(seed=seeds, dtype=float_dtypes, kind=st.sampled_from(["int", "tensor"]), B=st.integers(1, 4))
def test_saliency_linear_closed_form(student, seed, dtype, kind, B):
    """3.1 saliency of a linear model is |W[target]| (reshaped like the input)"""
    shape, classes = (2, 3, 3), 4
    model = models_a6.linear(18, classes, seed, dtype)
    x = randn((B,) + shape, seed + 1, dtype)
    target = _target(kind, B, classes, seed)
    expected = model[1].weight.detach()[_rows(target, B)].reshape((B,) + shape).abs()
    assert_close(student.saliency(model, x, target), expected, name=N_("saliency map"), hint=ABS_HINT)


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=6)
@given(seed=seeds, dtype=float_dtypes, kind=st.sampled_from(["int", "tensor"]), B=st.integers(1, 4))
def test_saliency_quadratic_closed_form(student, seed, dtype, kind, B):
    """3.1 saliency of a quadratic model is |(Q + Q^T) x + b| for each row's target"""
    n, classes = 5, 3
    model = models_a6.quadratic(n, classes, seed, dtype)
    x = randn((B, n), seed + 1, dtype)
    target = _target(kind, B, classes, seed)
    expected = model.input_gradient(x, _rows(target, B)).abs()
    assert_close(student.saliency(model, x, target), expected, name=N_("saliency map"),
                 hint=ABS_HINT + N_("; each row uses the gradient of its own target logit"))


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["int", "tensor"])
def test_saliency_cnn_match_reference(student, reference, device, kind):
    """3.1 saliency of a small CNN matches the reference (dtype and device kept)"""
    for seed, dtype in ((1, torch.float32), (2, torch.float64)):
        model = models_a6.small_cnn(3, 5, seed, dtype=dtype, device=device)
        x = randn((3, 3, 8, 8), seed + 10, dtype, device)
        target = _target(kind, 3, 5, seed).to(device) if kind == "tensor" else 3
        expected = reference.saliency(model, x, target)
        assert_close(student.saliency(model, x, target), expected,
                     name=N_("saliency map ({dtype})").format(dtype=dtype),
                     hint=ABS_HINT + N_("; return it in x's dtype and on x's device"))


@pytest.mark.task("3.1")
@pytest.mark.points(1)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_saliency_speed(perf, device):
    """3.1 saliency uses one backward pass for the whole batch"""
    model = models_a6.small_cnn(3, 10, 7, channels=8, dtype=torch.float32, device=device)
    x = randn((32, 3, 32, 32), 8, torch.float32, device)
    perf.check("saliency", model, x, randint((32,), 9, 0, 10, device),
               hint=N_("one backward pass of the sum of the selected logits gives every row's gradient"))


# ---- 3.2 integrated_gradients -------------------------------------------------------------
@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=8)
@given(seed=seeds, dtype=float_dtypes, method=st.sampled_from(METHODS), K=st.integers(2, 40),
       with_baseline=st.booleans())
def test_integrated_gradients_linear_closed_form(student, seed, dtype, method, K, with_baseline):
    """3.2 integrated_gradients of a linear model: (x - baseline) * W[target] * sum of step sizes"""
    n, classes, B = 6, 3, 3
    model = models_a6.linear(n, classes, seed, dtype)
    x = randn((B, n), seed + 1, dtype)
    baseline = randn((B, n), seed + 2, dtype) if with_baseline else None
    target = randint((B,), seed + 3, 0, classes)
    steps, _ = _steps(method, K)
    base = baseline if with_baseline else torch.zeros_like(x)
    expected = (x - base) * model[1].weight.detach()[target] * steps.sum().to(dtype)
    got = student.integrated_gradients(model, x, target, baseline, n_steps=K, method=method)
    assert_close(got, expected, name=N_("IG attributions ({method}, n_steps={K})").format(method=method, K=K),
                 hint=IG_BASELINE_HINT + N_("; step sizes as in the handout (Captum's)"))


@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=8)
@given(seed=seeds, method=st.sampled_from(METHODS), K=st.integers(2, 30), kind=st.sampled_from(["int", "tensor"]))
def test_integrated_gradients_quadratic_closed_form(student, seed, method, K, kind):
    """3.2 integrated_gradients of a quadratic model follow each method's path points and step sizes"""
    n, classes, B = 4, 3, 2
    model = models_a6.quadratic(n, classes, seed)
    x, baseline = randn((B, n), seed + 1), randn((B, n), seed + 2, scale=0.5)
    target = _target(kind, B, classes, seed)
    rows = _rows(target, B)
    s, a = _steps(method, K)
    # the gradient is affine along the path: sum_k s_k g(a_k) = S g(baseline) + M (Q + Q^T)(x - baseline)
    S, M = s.sum(), (s * a).sum()
    q = model.Q.detach()[rows]
    sym = q + q.transpose(1, 2)
    avg = S * model.input_gradient(baseline, rows) + M * torch.einsum("bij,bj->bi", sym, x - baseline)
    expected = (x - baseline) * avg
    got = student.integrated_gradients(model, x, target, baseline, n_steps=K, method=method)
    # float64 loosened 100x: alphas/step sizes computed in float32 (as Captum does) move results ~1e-8
    assert_close(got, expected, name=N_("IG attributions ({method}, n_steps={K})").format(method=method, K=K),
                 loosen=100,
                 hint=N_("{method}: use the path points a_k and step sizes s_k of the handout; ").format(method=method)
                 + IG_BASELINE_HINT)


@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "completeness")
@settings(max_examples=4)
@given(seed=seeds, method=st.sampled_from(METHODS))
def test_integrated_gradients_completeness(student, seed, method):
    """3.2 integrated_gradients: the completeness error shrinks as n_steps grows"""
    n, classes, B = 5, 3, 4
    model = models_a6.smooth_mlp(n, classes, seed)
    x, baseline = randn((B, n), seed + 1, scale=1.5), randn((B, n), seed + 2)
    target = randint((B,), seed + 3, 0, classes)
    with torch.no_grad():
        gap = (model(x) - model(baseline)).gather(1, target[:, None]).squeeze(1)
    errors = []
    for K in (4, 32, 256):
        ig = student.integrated_gradients(model, x, target, baseline, n_steps=K, method=method)
        errors.append(float((ig.sum(dim=1) - gap).abs().max()))
    # every method converges at least like 1/n_steps: 8x more steps must cut the error well below half
    shrinks = errors[2] <= 0.5 * errors[1] + 1e-9 and errors[1] <= 0.5 * errors[0] + 1e-9
    small = errors[2] <= 0.02 * (float(gap.abs().max()) + 1e-3)
    assert_true(shrinks and small,
                N_("completeness error max |sum(IG) - (f(x) - f(baseline))| was {e4:.3g}, {e32:.3g}, {e256:.3g} "
                   "for n_steps = 4, 32, 256 ({method}); it should shrink towards 0.").format(
                    e4=errors[0], e32=errors[1], e256=errors[2], method=method),
                N_("completeness: sum(IG) approximates f(x) - f(baseline) only when the path goes from the baseline "
                   "to x and the averaged gradient is multiplied by (x - baseline)"))


@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", METHODS)
def test_integrated_gradients_cnn_match_reference(student, reference, device, method):
    """3.2 integrated_gradients of a small CNN match the reference"""
    for seed, dtype, kind, with_baseline in ((1, torch.float32, "int", False), (2, torch.float64, "tensor", True)):
        model = models_a6.small_cnn(2, 4, seed, dtype=dtype, device=device)
        x = randn((2, 2, 6, 6), seed + 10, dtype, device)
        baseline = randn((2, 2, 6, 6), seed + 11, dtype, device, scale=0.3) if with_baseline else None
        target = _target(kind, 2, 4, seed)
        target = target.to(device) if isinstance(target, torch.Tensor) else target
        expected = reference.integrated_gradients(model, x, target, baseline, n_steps=9, method=method)
        got = student.integrated_gradients(model, x, target, baseline, n_steps=9, method=method)
        # loosened 100x: alphas/step sizes computed in float32 (as Captum does) are accepted
        assert_close(got, expected, name=N_("IG attributions ({dtype})").format(dtype=dtype), loosen=100,
                     hint=IG_BASELINE_HINT + N_("; {method} path points and step sizes as in the handout").format(
                         method=method))


@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_integrated_gradients_speed(perf, device):
    """3.2 integrated_gradients evaluate all path points in one batched pass"""
    model = models_a6.small_cnn(3, 10, 5, channels=8, dtype=torch.float32, device=device)
    x = randn((4, 3, 16, 16), 6, torch.float32, device)
    perf.check("integrated_gradients", model, x, 3, n_steps=50,
               hint=N_("stack the n_steps path points of all rows into one batch: one forward and one backward "
                       "pass"))


# ---- 3.3 grad_cam -------------------------------------------------------------------------
@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "properties")
@settings(max_examples=5)
@given(seed=seeds, dtype=float_dtypes, side=st.integers(5, 12), kind=st.sampled_from(["int", "tensor"]))
def test_grad_cam_relu_shape_nonnegative(student, seed, dtype, side, kind):
    """3.3 grad_cam is non-negative with ReLU and at the layer's resolution"""
    model = models_a6.cam_head_cnn(2, 4, seed, dtype=dtype)
    x = randn((3, 2, side, side), seed + 1, dtype)
    target = _target(kind, 3, 4, seed)
    cam = student.grad_cam(model, model[2], x, target)
    res = (side + 1) // 2                       # stride-2 conv with padding 1
    assert_true(isinstance(cam, torch.Tensor) and tuple(cam.shape) == (3, res, res),
                N_("your Grad-CAM map has shape {actual}; expected (B, H', W') = (3, {res}, {res}), the resolution "
                   "of the layer's output.").format(actual=tuple(getattr(cam, 'shape', ())), res=res),
                N_("keep the map at the layer's resolution: sum over the channel dimension only, no upsampling"))
    assert_true(bool((cam >= 0).all()), N_("your Grad-CAM map (relu=True) has negative values."),
                N_("apply ReLU to sum_k alpha_k A_k when relu=True: only positive evidence for the class is kept"))
    assert_true(cam.dtype == dtype, N_("your Grad-CAM map has dtype {actual}; expected {expected}.").format(
                    actual=cam.dtype, expected=dtype),
                N_("return the map in x's dtype"))


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "closed-form")
@settings(max_examples=5)
@given(seed=seeds, dtype=float_dtypes, side=st.integers(4, 11), kind=st.sampled_from(["int", "tensor"]))
def test_grad_cam_closed_form_without_relu(student, seed, dtype, side, kind):
    """3.3 grad_cam(relu=False) before global average pooling is CAM / (H' W')"""
    classes, B = 4, 2
    model = models_a6.cam_head_cnn(3, classes, seed, dtype=dtype)
    x = randn((B, 3, side, side), seed + 1, dtype)
    target = _target(kind, B, classes, seed)
    with torch.no_grad():
        A = model[:3](x)                                          # (B, K, H', W')
    W = model[5].weight.detach()[_rows(target, B)]                # (B, K)
    expected = torch.einsum("bk,bkhw->bhw", W, A) / (A.shape[2] * A.shape[3])
    assert_close(student.grad_cam(model, model[2], x, target, relu=False), expected,
                 name=N_("Grad-CAM map without ReLU"), hint=CAM_HINT)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("relu", [True, False])
def test_grad_cam_cnn_match_reference(student, reference, device, relu):
    """3.3 grad_cam on a small CNN matches the reference for several layers"""
    for seed, dtype, index, kind in ((1, torch.float32, 3, "tensor"), (2, torch.float64, 0, "int"),
                                     (3, torch.float64, 2, "tensor")):
        model = models_a6.small_cnn(2, 5, seed, dtype=dtype, device=device)
        x = randn((3, 2, 9, 9), seed + 10, dtype, device)
        target = _target(kind, 3, 5, seed)
        target = target.to(device) if isinstance(target, torch.Tensor) else target
        expected = reference.grad_cam(model, model[index], x, target, relu=relu)
        assert_close(student.grad_cam(model, model[index], x, target, relu=relu), expected,
                     name=N_("Grad-CAM map (layer {index}, {dtype})").format(index=index, dtype=dtype), hint=CAM_HINT)


@pytest.mark.task("3.3")
@pytest.mark.points(1)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_grad_cam_speed(perf, device):
    """3.3 grad_cam uses one forward and one backward pass for the batch"""
    model = models_a6.small_cnn(3, 10, 11, channels=16, dtype=torch.float32, device=device)
    x = randn((48, 3, 40, 40), 12, torch.float32, device)
    perf.check("grad_cam", model, model[3], x, randint((48,), 13, 0, 10, device),
               hint=N_("capture the activation with one forward hook; one backward pass gives every row's "
                       "gradients"))
