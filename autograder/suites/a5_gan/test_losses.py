"""Hidden tests, tasks 1 and 2: GAN, LSGAN and cycle-consistency losses.

Expected values come from torch's BCEWithLogits (computed here, in float64) and from
closed forms; expected gradients from the closed-form derivatives:
  d/dz softplus(z) = sigmoid(z),  d/dz softplus(-z) = sigmoid(z) - 1.
"""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a5_gan.strategies import image_shapes, logit_cases
from shared.compare import assert_close, assert_true, assert_structure
from shared.strategies import float_dtypes, randn, seeds
from shared.i18n import N_


# The losses must be written with basic tensor ops (stable log-sum-exp form).
LOSS_FORBIDDEN = (
    "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.binary_cross_entropy_with_logits",
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.functional.softplus",
    "torch.nn.functional.logsigmoid",
)

STABLE = (N_("use the numerically stable log-sum-exp form: log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)) (or "
             "torch.logaddexp(x, 0)); log(sigmoid(x)) and log(1 - sigmoid(x)) hit log(0) and exp(x) overflows for "
             "large logits"))
D_LOSS = (N_("discriminator loss = BCE(real, 1) + BCE(fake, 0) = mean(-log sigmoid(real)) + mean(-log(1 - "
             "sigmoid(fake))): the sum of two means over raw logits"))
NON_SAT = (N_("the default (non-saturating) generator loss is BCE(fake, 1) = -mean log sigmoid(fake); "
              "saturating=True selects the saturating loss mean log(1 - sigmoid(fake))"))
SAT = (N_("saturating=True is the saturating generator loss mean log(1 - sigmoid(fake)) = -BCE(fake, 0); the "
          "default non-saturating loss is -mean log sigmoid(fake)"))
LSGAN_D = (N_("LSGAN discriminator targets: real -> 1 and fake -> 0, 0.5*mean((real-1)^2) + 0.5*mean(fake^2)"))
LSGAN_G = N_("LSGAN generator target: fake -> 1, 0.5*mean((fake-1)^2)")
CYCLE = (N_("cycle consistency is an L1 loss: weight * (mean|rec_a - real_a| + mean|rec_b - real_b|), each mean "
            "over its own pair"))


def _bce(x: torch.Tensor, target: float) -> torch.Tensor:
    """torch's BCEWithLogits against a constant target, computed in float64."""
    x64 = x.detach().to(torch.float64)
    return F.binary_cross_entropy_with_logits(x64, torch.full_like(x64, target))


def _leaf(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone().requires_grad_(True)


def _extreme_logits(seed: int, dtype, n: int = 12) -> torch.Tensor:
    """Logits of magnitude 1e4 and 1e3 of both signs, mixed with ordinary ones."""
    big = torch.tensor([1e4, -1e4, 1e3, -1e3, 80.0, -80.0], dtype=torch.float64)
    x = torch.cat([big, randn((n,), seed, torch.float64, scale=3.0)])
    perm = torch.randperm(x.numel(), generator=torch.Generator().manual_seed(seed))
    return x[perm].to(dtype)


# ---- 1.1 discriminator_loss ------------------------------------------------------------
@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@given(case=logit_cases())
def test_discriminator_loss_matches_bce(student, case):
    """1.1 discriminator_loss equals BCEWithLogits(real, 1) + BCEWithLogits(fake, 0)"""
    seed, dtype, rshape, fshape, scale = case
    real = randn(rshape, seed, dtype, scale=scale)
    fake = randn(fshape, seed + 1, dtype, scale=scale)
    expected = (_bce(real, 1.0) + _bce(fake, 0.0)).to(dtype)
    out = student.discriminator_loss(real, fake)
    assert_close(out, expected, name=N_("discriminator loss"), hint=D_LOSS)


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "autograd")
@given(case=logit_cases())
def test_discriminator_loss_gradients(student, case):
    """1.1 discriminator_loss gradients: (sigmoid(real) - 1)/N_real and sigmoid(fake)/N_fake"""
    seed, dtype, rshape, fshape, scale = case
    real = randn(rshape, seed, dtype, scale=scale, requires_grad=True)
    fake = randn(fshape, seed + 1, dtype, scale=scale, requires_grad=True)
    loss = student.discriminator_loss(real, fake)
    assert_close(loss, (_bce(real, 1.0) + _bce(fake, 0.0)).to(dtype), name=N_("discriminator loss"), hint=D_LOSS)
    loss.backward()
    r64, f64 = real.detach().double(), fake.detach().double()
    assert_close(real.grad, ((torch.sigmoid(r64) - 1) / r64.numel()).to(dtype),
                 name=N_("gradient w.r.t. real_logits"), hint=D_LOSS + N_("; d/dx of -log sigmoid(x) is sigmoid(x) - 1"))
    assert_close(fake.grad, (torch.sigmoid(f64) / f64.numel()).to(dtype),
                 name=N_("gradient w.r.t. fake_logits"), hint=D_LOSS + N_("; d/dx of -log(1 - sigmoid(x)) is sigmoid(x)"))


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "stability")
@settings(max_examples=8)
@given(seed=seeds, dtype=float_dtypes)
def test_discriminator_loss_stable(student, seed, dtype):
    """1.1 discriminator_loss is finite, with finite gradients, for logits up to +-1e4"""
    real = _leaf(_extreme_logits(seed, dtype))
    fake = _leaf(_extreme_logits(seed + 1, dtype))
    loss = student.discriminator_loss(real, fake)
    assert_close(loss, (_bce(real, 1.0) + _bce(fake, 0.0)).to(dtype),
                 name=N_("discriminator loss at logits up to +-1e4"), hint=STABLE)
    loss.backward()
    r64, f64 = real.detach().double(), fake.detach().double()
    assert_close(real.grad, ((torch.sigmoid(r64) - 1) / r64.numel()).to(dtype),
                 name=N_("gradient w.r.t. real_logits at logits up to +-1e4"), hint=STABLE)
    assert_close(fake.grad, (torch.sigmoid(f64) / f64.numel()).to(dtype),
                 name=N_("gradient w.r.t. fake_logits at logits up to +-1e4"), hint=STABLE)


@pytest.mark.task("1.1")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_discriminator_loss_without_bce_functions(student, reference):
    """1.1 discriminator_loss works without torch's BCE / log-sigmoid functions"""
    real, fake = randn((8,), 61, torch.float64, scale=5.0), randn((8,), 62, torch.float64, scale=5.0)
    with student.forbid("discriminator_loss", *LOSS_FORBIDDEN):
        got = student.discriminator_loss(real, fake)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.discriminator_loss(real, fake), name='discriminator loss')


# ---- 1.2 generator_loss -----------------------------------------------------------------
@pytest.mark.task("1.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@given(case=logit_cases())
def test_generator_loss_non_saturating(student, case):
    """1.2 generator_loss (default, non-saturating) equals BCEWithLogits(fake, 1)"""
    seed, dtype, _, fshape, scale = case
    fake = randn(fshape, seed, dtype, scale=scale)
    out = student.generator_loss(fake)
    out_kw = student.generator_loss(fake, saturating=False)
    assert_close(out, _bce(fake, 1.0).to(dtype), name=N_("non-saturating generator loss"), hint=NON_SAT)
    assert_close(out_kw, _bce(fake, 1.0).to(dtype), name=N_("generator loss with saturating=False"), hint=NON_SAT)


@pytest.mark.task("1.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@given(case=logit_cases())
def test_generator_loss_saturating(student, case):
    """1.2 generator_loss(saturating=True) equals -BCEWithLogits(fake, 0) = mean log(1 - D(G(z)))"""
    seed, dtype, _, fshape, scale = case
    fake = randn(fshape, seed, dtype, scale=scale)
    out = student.generator_loss(fake, saturating=True)
    assert_close(out, (-_bce(fake, 0.0)).to(dtype), name=N_("saturating generator loss"), hint=SAT)


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
@pytest.mark.parametrize("saturating", [False, True], ids=["non_saturating", "saturating"])
def test_generator_loss_without_bce_functions(student, reference, saturating):
    """1.2 generator_loss works without torch's BCE / log-sigmoid functions"""
    fake = randn((8,), 63, torch.float64, scale=5.0)
    with student.forbid("generator_loss", *LOSS_FORBIDDEN):
        got = student.generator_loss(fake, saturating=saturating)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.generator_loss(fake, saturating=saturating), name='generator loss')


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "autograd")
@pytest.mark.parametrize("saturating", [False, True], ids=["non_saturating", "saturating"])
@settings(max_examples=10)
@given(case=logit_cases())
def test_generator_loss_gradients(student, saturating, case):
    """1.2 generator_loss gradients: (sigmoid(z) - 1)/N non-saturating, -sigmoid(z)/N saturating"""
    seed, dtype, _, fshape, scale = case
    fake = randn(fshape, seed, dtype, scale=scale, requires_grad=True)
    hint = SAT if saturating else NON_SAT
    loss = student.generator_loss(fake, saturating=saturating)
    assert_close(loss, (-_bce(fake, 0.0) if saturating else _bce(fake, 1.0)).to(dtype),
                 name=N_("generator loss"), hint=hint)
    loss.backward()
    z = fake.detach().double()
    # d/dz mean log(1 - sigmoid(z)) = -sigmoid(z)/N ;  d/dz -mean log sigmoid(z) = (sigmoid(z) - 1)/N
    expected = (-torch.sigmoid(z) if saturating else torch.sigmoid(z) - 1) / z.numel()
    assert_close(fake.grad, expected.to(dtype), name=N_("gradient w.r.t. fake_logits"), hint=hint)


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "stability")
@pytest.mark.parametrize("saturating", [False, True], ids=["non_saturating", "saturating"])
@settings(max_examples=6)
@given(seed=seeds, dtype=float_dtypes)
def test_generator_loss_stable(student, saturating, seed, dtype):
    """1.2 generator_loss is finite, with finite gradients, for logits up to +-1e4"""
    fake = _leaf(_extreme_logits(seed, dtype))
    loss = student.generator_loss(fake, saturating=saturating)
    expected = -_bce(fake, 0.0) if saturating else _bce(fake, 1.0)
    assert_close(loss, expected.to(dtype), name=N_("generator loss at logits up to +-1e4"), hint=STABLE)
    loss.backward()
    z = fake.detach().double()
    grad = (-torch.sigmoid(z) if saturating else torch.sigmoid(z) - 1) / z.numel()
    assert_close(fake.grad, grad.to(dtype), name=N_("gradient at logits up to +-1e4"), hint=STABLE)


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "concept")
def test_generator_loss_saturation(student):
    """1.2 only the saturating loss's gradient vanishes when D rejects the fakes"""
    fake = torch.full((8,), -12.0, dtype=torch.float64, requires_grad=True)
    student.generator_loss(fake, saturating=True).backward()
    sat = fake.grad.abs().max().item()
    fake2 = torch.full((8,), -12.0, dtype=torch.float64, requires_grad=True)
    student.generator_loss(fake2).backward()
    non_sat = fake2.grad.abs().min().item()
    # closed forms: |-sigmoid(-12)|/8 ~ 7.7e-7 and |sigmoid(-12) - 1|/8 ~ 0.125
    assert_true(sat < 1e-5 and non_sat > 0.1,
                N_("with the discriminator confidently rejecting the fakes, the saturating loss should have a "
                   "vanishing gradient and the non-saturating loss a large one; yours do not."),
                N_("saturating: d/dz mean log(1 - sigmoid(z)) = -sigmoid(z)/N -> 0 for z << 0; non-saturating: "
                   "d/dz -mean log sigmoid(z) = (sigmoid(z) - 1)/N -> -1/N"))


# ---- 2.1 / 2.2 LSGAN ---------------------------------------------------------------------
@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "autograd")
@given(case=logit_cases())
def test_lsgan_discriminator_loss(student, case):
    """2.1 lsgan_discriminator_loss = 0.5*mean((real-1)^2) + 0.5*mean(fake^2), with its gradients"""
    seed, dtype, rshape, fshape, scale = case
    real = randn(rshape, seed, dtype, scale=scale, requires_grad=True)
    fake = randn(fshape, seed + 1, dtype, scale=scale, requires_grad=True)
    r64, f64 = real.detach().double(), fake.detach().double()
    expected = 0.5 * F.mse_loss(r64, torch.ones_like(r64)) + 0.5 * F.mse_loss(f64, torch.zeros_like(f64))
    loss = student.lsgan_discriminator_loss(real, fake)
    assert_close(loss, expected.to(dtype), name=N_("LSGAN discriminator loss"), hint=LSGAN_D)
    loss.backward()
    assert_close(real.grad, ((r64 - 1) / r64.numel()).to(dtype), name=N_("gradient w.r.t. real_out"), hint=LSGAN_D)
    assert_close(fake.grad, (f64 / f64.numel()).to(dtype), name=N_("gradient w.r.t. fake_out"), hint=LSGAN_D)


@pytest.mark.task("2.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "autograd")
@given(case=logit_cases())
def test_lsgan_generator_loss(student, case):
    """2.2 lsgan_generator_loss = 0.5*mean((fake-1)^2), with its gradient"""
    seed, dtype, _, fshape, scale = case
    fake = randn(fshape, seed, dtype, scale=scale, requires_grad=True)
    f64 = fake.detach().double()
    loss = student.lsgan_generator_loss(fake)
    assert_close(loss, (0.5 * F.mse_loss(f64, torch.ones_like(f64))).to(dtype),
                 name=N_("LSGAN generator loss"), hint=LSGAN_G)
    loss.backward()
    assert_close(fake.grad, ((f64 - 1) / f64.numel()).to(dtype), name=N_("gradient w.r.t. fake_out"), hint=LSGAN_G)


# ---- 2.3 cycle consistency ---------------------------------------------------------------
@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "autograd")
@given(seed=seeds, dtype=float_dtypes, shape_a=image_shapes, shape_b=image_shapes,
       weight=st.sampled_from([1.0, 2.5, 10.0]))
def test_cycle_consistency_loss(student, seed, dtype, shape_a, shape_b, weight):
    """2.3 cycle_consistency_loss = weight * (L1(rec_a, real_a) + L1(rec_b, real_b)), with gradients"""
    real_a, real_b = randn(shape_a, seed, dtype), randn(shape_b, seed + 1, dtype)
    rec_a = randn(shape_a, seed + 2, dtype, requires_grad=True)
    rec_b = randn(shape_b, seed + 3, dtype, requires_grad=True)
    a64, b64 = real_a.double(), real_b.double()
    ra64, rb64 = rec_a.detach().double(), rec_b.detach().double()
    expected = weight * (F.l1_loss(ra64, a64) + F.l1_loss(rb64, b64))
    loss = student.cycle_consistency_loss(real_a, rec_a, real_b, rec_b, weight=weight)
    assert_close(loss, expected.to(dtype), name=N_("cycle-consistency loss"), hint=CYCLE)
    loss.backward()
    assert_close(rec_a.grad, (weight * torch.sign(ra64 - a64) / a64.numel()).to(dtype),
                 name=N_("gradient w.r.t. rec_a"), hint=CYCLE)
    assert_close(rec_b.grad, (weight * torch.sign(rb64 - b64) / b64.numel()).to(dtype),
                 name=N_("gradient w.r.t. rec_b"), hint=CYCLE)


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness")
@settings(max_examples=5)
@given(seed=seeds, shape=image_shapes)
def test_cycle_consistency_default_weight(student, seed, shape):
    """2.3 cycle_consistency_loss uses weight 10 by default"""
    real_a, rec_a = randn(shape, seed), randn(shape, seed + 1)
    real_b, rec_b = randn(shape, seed + 2), randn(shape, seed + 3)
    expected = 10.0 * (F.l1_loss(rec_a, real_a) + F.l1_loss(rec_b, real_b))
    assert_close(student.cycle_consistency_loss(real_a, rec_a, real_b, rec_b), expected,
                 name=N_("cycle-consistency loss with the default weight"),
                 hint=N_("the default cycle weight (lambda) is 10.0, as in the CycleGAN paper; ") + CYCLE)
