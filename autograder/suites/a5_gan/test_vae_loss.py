"""Hidden tests, task 4.3: the VAE loss (Bernoulli reconstruction term + beta * KL).

Expected values: the reconstruction term from torch's BCEWithLogits with target x
(reduction="sum", divided by the batch size), the KL term from
torch.distributions.kl_divergence(Normal(mu, sigma), Normal(0, 1)).sum(-1).mean(), both in
float64; the expected gradient from the closed form d recon / d l = (sigmoid(l) - x) / B.
vae_loss calls gaussian_kl (task 4.2): the grader substitutes the reference's for it, so
the KL part of these tests charges only vae_loss's own use of it.
"""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Normal, kl_divergence

from autograder.suites.a5_gan.test_losses import LOSS_FORBIDDEN
from shared.compare import assert_close, assert_true, assert_structure
from shared.strategies import float_dtypes, rand, randn, seeds
from shared.i18n import N_


RECON = (N_("the reconstruction term is the Bernoulli negative log-likelihood of x given the logits (binary "
            "cross-entropy with target x: softplus(l) - x*l per feature), not a squared error; it is summed over "
            "the features of each sample and averaged over the batch"))
KL = N_("kl is the KL term of task 4.2, gaussian_kl(mu, logvar): call it")
LOSS = N_("loss = recon + beta * kl (beta weights only the KL term), returned as (loss, recon, kl)")
STABLE = (N_("write softplus(l) = log(1 + exp(l)) in the stable form max(l, 0) + log1p(exp(-|l|)) (or "
             "torch.logaddexp(l, 0)): log(sigmoid(l)) hits log(0) and exp(l) overflows for large logits"))
RETURN = N_("vae_loss returns a tuple (loss, recon, kl) of three 0-dim tensors")

data_shapes = st.one_of(st.tuples(st.integers(1, 4), st.integers(1, 12)),
                        st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 4), st.integers(1, 4)))


@st.composite
def vae_cases(draw):
    """(seed, dtype, data shape, latent size, logit scale, beta)."""
    return (draw(seeds), draw(float_dtypes), draw(data_shapes), draw(st.integers(1, 6)),
            draw(st.sampled_from([0.5, 3.0, 30.0])), draw(st.sampled_from([1.0, 1.0, 0.5, 4.0, 0.0])))


def _inputs(seed, dtype, shape, latent, scale, requires_grad=False):
    logits = randn(shape, seed, dtype, scale=scale, requires_grad=requires_grad)
    x = rand(shape, seed + 1, dtype)
    x = torch.where(rand(shape, seed + 2) < 0.3, x.round(), x)          # some exact 0/1 pixels, like MNIST
    mu = randn((shape[0], latent), seed + 3, dtype, scale=1.5, requires_grad=requires_grad)
    logvar = rand((shape[0], latent), seed + 4, dtype, low=-3.0, high=2.0).requires_grad_(requires_grad)
    return logits, x, mu, logvar


def _expected(logits, x, mu, logvar, beta):
    """(loss, recon, kl) from torch, in float64."""
    l64, x64, mu64, lv64 = (t.detach().double() for t in (logits, x, mu, logvar))
    recon = F.binary_cross_entropy_with_logits(l64, x64, reduction="sum") / l64.shape[0]
    kl = kl_divergence(Normal(mu64, torch.exp(0.5 * lv64)),
                       Normal(torch.zeros_like(mu64), torch.ones_like(mu64))).sum(-1).mean()
    return recon + beta * kl, recon, kl


def _check(result, expected, dtype, what="", recon_hint=RECON):
    assert_true(isinstance(result, (tuple, list)) and len(result) == 3,
                (N_("your vae_loss returned a {name} of length {length}; expected 3 values.").format(
                    name=type(result).__name__, length=len(result)) if isinstance(result, (tuple, list)) else
                 N_("your vae_loss returned a {name}; expected 3 values.").format(name=type(result).__name__)),
                RETURN)
    loss, recon, kl = result
    e_loss, e_recon, e_kl = (t.to(dtype) for t in expected)
    assert_close(recon, e_recon, name=f"recon{what}", hint=recon_hint)
    assert_close(kl, e_kl, name=f"kl{what}", hint=KL)
    assert_close(loss, e_loss, name=f"loss{what}", hint=LOSS)


@pytest.mark.task("4.3")
@pytest.mark.points(3)
@pytest.mark.tags("correctness")
@settings(max_examples=15)
@given(case=vae_cases())
def test_vae_loss_matches_torch(student, case):
    """4.3 vae_loss equals BCEWithLogits(sum)/B + beta * KL, with the parts returned as (loss, recon, kl)"""
    seed, dtype, shape, latent, scale, beta = case
    inputs = _inputs(seed, dtype, shape, latent, scale)
    expected = _expected(*inputs, beta)
    _check(student.vae_loss(*inputs, beta=beta), expected, dtype)


@pytest.mark.task("4.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "api")
def test_vae_loss_default_beta(student):
    """4.3 vae_loss's beta defaults to 1 (the plain VAE)"""
    inputs = _inputs(11, torch.float64, (3, 5), 4, 3.0)
    _check(student.vae_loss(*inputs), _expected(*inputs, 1.0), torch.float64, N_(" (default beta)"))


@pytest.mark.task("4.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "autograd")
@settings(max_examples=10)
@given(case=vae_cases())
def test_vae_loss_gradients(student, case):
    """4.3 vae_loss's gradients: (sigmoid(l) - x)/B for the logits, beta * dKL for mu and logvar"""
    seed, dtype, shape, latent, scale, beta = case
    logits, x, mu, logvar = _inputs(seed, dtype, shape, latent, scale, requires_grad=True)
    result = student.vae_loss(logits, x, mu, logvar, beta=beta)
    _check(result, _expected(logits, x, mu, logvar, beta), dtype)
    result[0].backward()
    l64, x64 = logits.detach().double(), x.double()
    assert_true(logits.grad is not None, N_("no gradient of the loss reached recon_logits."),
                RECON + N_("; build it from differentiable tensor operations (no .detach(), .item() or numpy)"))
    assert_close(logits.grad, ((torch.sigmoid(l64) - x64) / shape[0]).to(dtype),
                 name=N_("gradient of the loss w.r.t. recon_logits"),
                 hint=RECON + N_("; d/dl of softplus(l) - x*l is sigmoid(l) - x"))
    # mu and logvar reach the loss through gaussian_kl, which the grader substitutes with the
    # reference's (task 4.2 is judged on its own); gradients still flow through it
    mu64, lv64 = (t.detach().double().requires_grad_(True) for t in (mu, logvar))
    kl = (-0.5 * (1 + lv64 - mu64.pow(2) - lv64.exp()).sum(-1)).mean()
    (beta * kl).backward()
    for name, mine, theirs in (("mu", mu, mu64), ("logvar", logvar, lv64)):
        assert_true(mine.grad is not None, N_("no gradient of the loss reached {name}.").format(name=name),
                    KL + N_("; keep it on the autograd graph (no .detach(), .item() or numpy)"))
        assert_close(mine.grad, theirs.grad.to(dtype), name=N_("gradient of the loss w.r.t. {name}").format(name=name),
                     hint=LOSS + "; " + KL)


@pytest.mark.task("4.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "stability")
@settings(max_examples=6)
@given(seed=seeds, dtype=float_dtypes)
def test_vae_loss_stable(student, seed, dtype):
    """4.3 vae_loss is finite, with finite gradients, for logits up to +-1e4"""
    big = torch.tensor([1e4, -1e4, 1e3, -1e3, 80.0, -80.0, 1e4, -1e4], dtype=torch.float64)
    logits = torch.stack([big, big.flip(0)]) + randn((2, 8), seed, scale=3.0)
    logits = logits.to(dtype).requires_grad_(True)
    # targets that agree and disagree with the confident logits (a disagreeing pixel costs ~1e4)
    x = torch.tensor([[1, 0, 1, 0, 0.5, 0.5, 0, 1], [0, 1, 0.25, 1, 1, 0, 1, 0]], dtype=dtype)
    mu, logvar = torch.zeros((2, 3), dtype=dtype), torch.zeros((2, 3), dtype=dtype)
    result = student.vae_loss(logits, x, mu, logvar)
    _check(result, _expected(logits, x, mu, logvar, 1.0), dtype, N_(" at logits up to +-1e4"), recon_hint=STABLE)
    result[0].backward()
    l64 = logits.detach().double()
    assert_close(logits.grad, ((torch.sigmoid(l64) - x.double()) / 2).to(dtype),
                 name=N_("gradient w.r.t. recon_logits at logits up to +-1e4"), hint=STABLE)


@pytest.mark.task("4.3")
@pytest.mark.points(2)
@pytest.mark.tags("forbidden-api")
@settings(max_examples=3)
@given(case=vae_cases())
def test_vae_loss_without_bce_functions(student, reference, case):
    """4.3 vae_loss works without torch's BCE / softplus / logsigmoid functions"""
    seed, dtype, shape, latent, scale, beta = case
    inputs = _inputs(seed, dtype, shape, latent, scale)
    with student.forbid("vae_loss", *LOSS_FORBIDDEN):
        got = student.vae_loss(*inputs, beta=beta)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.vae_loss(*inputs, beta=beta), name='(loss, recon, kl)')
