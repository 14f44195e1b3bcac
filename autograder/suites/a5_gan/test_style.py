"""Hidden tests, task 5: the Gram matrix and the style loss of neural style transfer.

torch has no Gram-matrix or style-loss operation, so the expected values come from the
reference (the `reference` fixture, in float64); tests/test_a5_reference.py checks the
reference against an einsum written independently.  style_loss calls gram_matrix (task
5.1): the grader substitutes the reference's for it, so a wrong Gram matrix is charged in
5.1 only.  For the same reason style_loss has no gradient test: the substituted
gram_matrix runs in the grader (a call-back from the worker), which cuts the autograd
graph, and every gradient of the style loss flows through gram_matrix.
"""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compare import assert_close, assert_true
from shared.devices import DEVICES
from shared.strategies import float_dtypes, randn, seeds
from shared.i18n import N_


GRAM = (N_("Gram matrix per sample: F = features[b].reshape(C, H*W), G[b] = F @ F^T / (C*H*W); shape (B, C, C), "
           "channels against channels (not positions), samples never mixed, divided by C*H*W"))
STYLE = (N_("style loss = sum over layers l of w_l * mean((gram_matrix(gen_l) - gram_matrix(style_l))^2): compare "
            "the Gram matrices (not the raw feature maps), take the mean over all elements of the (B, C, C) "
            "difference"))
WEIGHTS = N_("each layer's term is multiplied by its weight w_l (weights=None means every w_l = 1)")
BROADCAST = (N_("one style image for the whole batch: a style feature map of batch 1 gives a Gram matrix of batch "
                "1, and the difference with the generated batch's Gram matrices broadcasts"))
GRAD = N_("build it from differentiable tensor operations (no .detach(), .item(), numpy or torch.no_grad())")
DTYPE_DEVICE = N_("keep the features' dtype and device (no .float(), .double() or .cpu())")

feature_shapes = st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5))


@st.composite
def layer_cases(draw):
    """(seed, dtype, shapes of 1-3 layers with one batch size, weights or None)"""
    b = draw(st.integers(1, 3))
    shapes = [(b, *draw(st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 5))))
              for _ in range(draw(st.integers(1, 3)))]
    weights = draw(st.one_of(st.none(), st.lists(st.sampled_from([1.0, 0.5, 2.0, 1e-1, 10.0]),
                                                 min_size=len(shapes), max_size=len(shapes))))
    return draw(seeds), draw(float_dtypes), shapes, weights


def _features(shapes, seed, dtype, requires_grad=False, style_batch=None):
    out = []
    for i, shape in enumerate(shapes):
        if style_batch is not None:
            shape = (style_batch, *shape[1:])
        out.append(randn(shape, seed + i, dtype, requires_grad=requires_grad))
    return out


def _style_expected(reference, gen, style, weights, dtype):
    return reference.style_loss([g.detach().double() for g in gen], [s.double() for s in style],
                                weights).to(dtype)


# ---- 5.1 gram_matrix --------------------------------------------------------------------------
@pytest.mark.task("5.1")
@pytest.mark.points(3)
@pytest.mark.tags("correctness")
@settings(max_examples=12)
@given(seed=seeds, dtype=float_dtypes, shape=feature_shapes)
def test_gram_matrix_values(student, reference, seed, dtype, shape):
    """5.1 gram_matrix gives F F^T / (C*H*W) per sample"""
    features = randn(shape, seed, dtype, scale=2.0)
    expected = reference.gram_matrix(features.double()).to(dtype)
    assert_close(student.gram_matrix(features), expected, name=N_("Gram matrix"), hint=GRAM)


@pytest.mark.task("5.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "concept")
def test_gram_matrix_samples_do_not_mix(student, reference):
    """5.1 gram_matrix of a batch is the Gram matrices of its samples, stacked"""
    features = randn((3, 4, 5, 2), 21)
    features[1] = 0.0                                   # a blank sample has a zero Gram matrix
    actual = student.gram_matrix(features)
    assert_close(actual, reference.gram_matrix(features), name=N_("Gram matrix of a batch"), hint=GRAM)
    assert_true(bool((actual[1] == 0).all()), N_("the Gram matrix of an all-zero sample is not zero."), GRAM)


@pytest.mark.task("5.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "autograd")
@settings(max_examples=8)
@given(seed=seeds, shape=feature_shapes)
def test_gram_matrix_gradients(student, reference, seed, shape):
    """5.1 gram_matrix is differentiable (gradients match the reference's)"""
    mine = randn(shape, seed, requires_grad=True)
    ref = randn(shape, seed, requires_grad=True)
    upstream = randn((shape[0], shape[1], shape[1]), seed + 1)
    expected = reference.gram_matrix(ref)
    expected.backward(upstream)
    actual = student.gram_matrix(mine)
    assert_close(actual.detach(), expected.detach(), name=N_("Gram matrix"), hint=GRAM)
    assert_true(actual.requires_grad, N_("your Gram matrix does not require grad although the features do."), GRAD)
    actual.backward(upstream)
    assert_close(mine.grad, ref.grad, name=N_("gradient w.r.t. the features"), hint=GRAD)


@pytest.mark.task("5.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "dtype", "device")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [pytest.param(torch.float32, id="float32"),
                                   pytest.param(torch.float64, id="float64")])
def test_gram_matrix_dtype_device(student, reference, device, dtype):
    """5.1 gram_matrix keeps the features' dtype and device"""
    features = randn((2, 8, 6, 5), 31, dtype, device)
    actual = student.gram_matrix(features)
    assert_true(isinstance(actual, torch.Tensor) and actual.dtype == dtype and actual.device.type == device,
                N_("your Gram matrix is not a {dtype} tensor on {device}.").format(
                    dtype=dtype, device=device), DTYPE_DEVICE)
    assert_close(actual, reference.gram_matrix(features), name=N_("Gram matrix"), hint=GRAM)


# ---- 5.2 style_loss ---------------------------------------------------------------------------
@pytest.mark.task("5.2")
@pytest.mark.points(3)
@pytest.mark.tags("correctness")
@settings(max_examples=12)
@given(case=layer_cases())
def test_style_loss_values(student, reference, case):
    """5.2 style_loss sums w_l * mean((G(gen_l) - G(style_l))^2) over the layers"""
    seed, dtype, shapes, weights = case
    gen = _features(shapes, seed, dtype)
    style = _features(shapes, seed + 100, dtype)
    expected = _style_expected(reference, gen, style, weights, dtype)
    actual = student.style_loss(gen, style, weights)
    hint = STYLE if weights is None else STYLE + "; " + WEIGHTS
    assert_close(actual, expected, name=N_("style loss"), hint=hint)


@pytest.mark.task("5.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "autograd")
@settings(max_examples=6)
@given(case=layer_cases())
def test_style_loss_gradients(student, reference, case):
    """5.2 style_loss's gradient with respect to the generated features matches the reference's"""
    seed, dtype, shapes, weights = case
    mine = _features(shapes, seed, dtype, requires_grad=True)
    ours = _features(shapes, seed, dtype, requires_grad=True)
    style = _features(shapes, seed + 100, dtype)
    reference.style_loss(ours, style, weights).backward()
    student.style_loss(mine, style, weights).backward()
    for i, (m, o) in enumerate(zip(mine, ours)):
        assert_true(m.grad is not None, N_("no gradient reached generated features {i}.").format(i=i), GRAD)
        assert_close(m.grad, o.grad, name=N_("gradient w.r.t. generated features {i}").format(
            i=i), hint=STYLE + "; " + GRAD)


@pytest.mark.task("5.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "api")
def test_style_loss_weights_default_to_one(student, reference):
    """5.2 style_loss without weights weights every layer by 1"""
    shapes = [(2, 3, 4, 4), (2, 5, 2, 3)]
    gen, style = _features(shapes, 41, torch.float64), _features(shapes, 51, torch.float64)
    expected = reference.style_loss(gen, style, [1.0, 1.0])
    assert_close(student.style_loss(gen, style), expected, name=N_("style loss (weights=None)"), hint=WEIGHTS)
    assert_close(student.style_loss(gen, style, None), expected, name=N_("style loss (weights=None)"), hint=WEIGHTS)


@pytest.mark.task("5.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "broadcast")
@settings(max_examples=5)
@given(case=layer_cases())
def test_style_loss_one_style_image(student, reference, case):
    """5.2 style_loss accepts style feature maps of batch 1 (one style image for the whole batch)"""
    seed, dtype, shapes, weights = case
    gen = _features(shapes, seed, dtype)
    style = _features(shapes, seed + 100, dtype, style_batch=1)
    expected = _style_expected(reference, gen, style, weights, dtype)
    assert_close(student.style_loss(gen, style, weights), expected, name=N_("style loss (style batch 1)"),
                 hint=BROADCAST)


@pytest.mark.task("5.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "concept")
def test_style_loss_ignores_positions(student):
    """5.2 style_loss is 0 between an image's features and a spatially shuffled copy (style, not content)"""
    gen = randn((2, 4, 5, 6), 61)
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(61))
    shuffled = gen.flatten(2)[:, :, perm].reshape(gen.shape)     # same values per channel, other places
    loss = student.style_loss([gen], [shuffled])
    assert_close(loss, torch.zeros((), dtype=torch.float64), name=N_("style loss against a shuffled copy"),
                 hint=STYLE + N_(" (a Gram matrix sums over positions, so moving pixels around leaves it unchanged)"))
