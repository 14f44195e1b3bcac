"""Hidden tests, task 4: the VAE's reparameterization trick and KL term.

Expected values: the closed forms and torch.distributions.kl_divergence(Normal(mu, sigma),
Normal(0, 1)).sum(-1).mean(); expected gradients from the closed-form derivatives.
"""
import pytest
import torch
from hypothesis import given, settings
from torch.distributions import Normal, kl_divergence

from autograder.suites.a5_gan.strategies import gaussian_cases
from shared.compare import assert_close, assert_true
from shared.strategies import rand, randn
from shared.i18n import N_


REPARAM = (N_("reparameterization trick: z = mu + sigma * noise with sigma = exp(0.5 * logvar) (logvar is the "
              "log-variance, not the standard deviation)"))
KL = (N_("KL(N(mu, sigma^2) || N(0, 1)) per feature = -0.5 * (1 + logvar - mu^2 - exp(logvar)), summed over the "
         "features (dim 1) and averaged over the batch (dim 0)"))


def _gaussian(seed, dtype, batch, features, requires_grad=False):
    mu = randn((batch, features), seed, dtype, scale=1.5, requires_grad=requires_grad)
    logvar = (rand((batch, features), seed + 1, dtype, low=-3.0, high=2.0)).requires_grad_(requires_grad)
    return mu, logvar


# ---- 4.1 reparameterize --------------------------------------------------------------------
@pytest.mark.task("4.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@given(case=gaussian_cases())
def test_reparameterize_closed_form(student, case):
    """4.1 reparameterize returns mu + exp(0.5 * logvar) * noise"""
    seed, dtype, batch, features = case
    mu, logvar = _gaussian(seed, dtype, batch, features)
    noise = randn((batch, features), seed + 2, dtype)
    expected = (mu.double() + torch.exp(0.5 * logvar.double()) * noise.double()).to(dtype)
    assert_close(student.reparameterize(mu, logvar, noise), expected, name=N_("reparameterized sample"),
                 hint=REPARAM)


@pytest.mark.task("4.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "autograd")
@settings(max_examples=10)
@given(case=gaussian_cases())
def test_reparameterize_gradients(student, case):
    """4.1 reparameterize lets gradients reach mu (dz/dmu = 1) and logvar (dz/dlogvar = sigma*noise/2)"""
    seed, dtype, batch, features = case
    mu, logvar = _gaussian(seed, dtype, batch, features, requires_grad=True)
    noise = randn((batch, features), seed + 2, dtype)
    weights = randn((batch, features), seed + 3, dtype)      # a random linear read-out of z
    z = student.reparameterize(mu, logvar, noise)
    assert_close(z, (mu.detach().double() + torch.exp(0.5 * logvar.detach().double()) * noise.double()).to(dtype),
                 name=N_("reparameterized sample"), hint=REPARAM)
    (z * weights).sum().backward()
    sigma = torch.exp(0.5 * logvar.detach().double())
    assert_close(mu.grad, weights, name=N_("gradient w.r.t. mu"), hint=REPARAM)
    assert_close(logvar.grad, (weights.double() * 0.5 * sigma * noise.double()).to(dtype),
                 name=N_("gradient w.r.t. logvar"), hint=REPARAM)


@pytest.mark.task("4.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "statistics")
def test_reparameterize_distribution(student):
    """4.1 reparameterize turns N(0, 1) noise into samples with mean mu and variance exp(logvar)"""
    n = 200_000
    mu = torch.tensor([[0.5, -2.0, 1.0]], dtype=torch.float64).expand(n, 3).contiguous()
    logvar = torch.tensor([[0.0, 1.0, -2.0]], dtype=torch.float64).expand(n, 3).contiguous()
    noise = randn((n, 3), 7, torch.float64)
    z = student.reparameterize(mu, logvar, noise)
    assert_true(isinstance(z, torch.Tensor) and tuple(z.shape) == (n, 3),
                N_("your reparameterize did not return a tensor of the shape of mu."), REPARAM)
    var = z.var(0)
    expected_var = torch.exp(logvar[0])
    # std error of a sample variance: var * sqrt(2/n) ~ 0.3% of var; 5 standard errors allowed
    assert_true(bool(((var - expected_var).abs() < 5 * expected_var * (2 / n) ** 0.5).all()),
                N_("the variance of your samples is not exp(logvar)."), REPARAM)
    assert_true(bool(((z.mean(0) - mu[0]).abs() < 5 * (expected_var / n).sqrt()).all()),
                N_("the mean of your samples is not mu."), REPARAM)


# ---- 4.2 gaussian_kl -----------------------------------------------------------------------
@pytest.mark.task("4.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness")
@given(case=gaussian_cases())
def test_gaussian_kl_matches_torch(student, case):
    """4.2 gaussian_kl equals kl_divergence(Normal(mu, sigma), Normal(0, 1)).sum(-1).mean()"""
    seed, dtype, batch, features = case
    mu, logvar = _gaussian(seed, dtype, batch, features)
    mu64, lv64 = mu.double(), logvar.double()
    expected = kl_divergence(Normal(mu64, torch.exp(0.5 * lv64)),
                             Normal(torch.zeros_like(mu64), torch.ones_like(mu64))).sum(-1).mean()
    assert_close(student.gaussian_kl(mu, logvar), expected.to(dtype), name=N_("KL term"), hint=KL)


@pytest.mark.task("4.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "autograd")
@settings(max_examples=10)
@given(case=gaussian_cases())
def test_gaussian_kl_gradients(student, case):
    """4.2 gaussian_kl gradients: mu/B w.r.t. mu and (exp(logvar) - 1)/(2B) w.r.t. logvar"""
    seed, dtype, batch, features = case
    mu, logvar = _gaussian(seed, dtype, batch, features, requires_grad=True)
    mu64, lv64 = mu.detach().double(), logvar.detach().double()
    kl = student.gaussian_kl(mu, logvar)
    expected = (-0.5 * (1 + lv64 - mu64 ** 2 - lv64.exp())).sum(1).mean()
    assert_close(kl, expected.to(dtype), name=N_("KL term"), hint=KL)
    kl.backward()
    assert_close(mu.grad, (mu64 / batch).to(dtype), name=N_("gradient of the KL term w.r.t. mu"), hint=KL)
    assert_close(logvar.grad, (0.5 * (lv64.exp() - 1) / batch).to(dtype),
                 name=N_("gradient of the KL term w.r.t. logvar"), hint=KL)


@pytest.mark.task("4.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "concept")
def test_gaussian_kl_zero_at_prior(student):
    """4.2 gaussian_kl is 0 when q(z|x) is the prior N(0, I)"""
    zeros = torch.zeros((3, 5), dtype=torch.float64)
    assert_close(student.gaussian_kl(zeros, zeros.clone()), torch.zeros((), dtype=torch.float64),
                 name=N_("KL term of N(0, I) against itself"),
                 hint=N_("KL(N(0, 1) || N(0, 1)) = 0: ") + KL)
