"""Public tests for a5_gan.  Run them with

    python grade.py check a5_gan path/to/a5_gan.py
    python -m pytest test_public.py -k generator_loss        # one function's checks

They are small sanity checks; the hidden tests use many more inputs, check gradients,
stability at logits of +-1e4, the DCGAN layers and parameter shapes, and speed.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shared.compare import assert_close, assert_true
from shared.strategies import randn

pytestmark = pytest.mark.visibility("visible")


def _bce(x, target):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))


# ---- 1.1 discriminator_loss -------------------------------------------------------------
def test_discriminator_loss_zero_logits(student):
    out = student.discriminator_loss(torch.zeros(4), torch.zeros(2))
    assert_close(out, torch.tensor(2 * math.log(2.0)), name="discriminator loss at logits 0",
                 hint="BCE(0, 1) = BCE(0, 0) = log 2, and the loss is the sum of the two means")


def test_discriminator_loss_matches_bce(student):
    real, fake = randn((6,), 0), randn((3, 2), 1)
    expected = _bce(real, 1.0) + _bce(fake, 0.0)
    assert_close(student.discriminator_loss(real, fake), expected, name="discriminator loss",
                 hint="BCE(real, 1) + BCE(fake, 0) on raw logits")


def test_discriminator_loss_large_logits(student):
    real = torch.tensor([1e4, -1e4, 5.0], dtype=torch.float64, requires_grad=True)
    fake = torch.tensor([-1e4, 1e4], dtype=torch.float64, requires_grad=True)
    loss = student.discriminator_loss(real, fake)
    assert_close(loss, torch.tensor((1e4 + math.log1p(math.exp(-5.0))) / 3 + 1e4 / 2, dtype=torch.float64),
                 name="discriminator loss at logits +-1e4",
                 hint="use the stable form log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))")
    loss.backward()
    assert_true(bool(torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()),
                "the gradients of your discriminator loss are not finite at logits +-1e4.",
                "log(sigmoid(x)) gives log(0) = -inf for very negative x: use the stable log-sum-exp form")


# ---- 1.2 generator_loss -----------------------------------------------------------------
def test_generator_loss_both_modes(student):
    fake = randn((5,), 2)
    assert_close(student.generator_loss(fake), _bce(fake, 1.0), name="non-saturating generator loss",
                 hint="the default is the non-saturating loss BCE(fake, 1) = -mean log sigmoid(fake)")
    assert_close(student.generator_loss(fake, saturating=True), -_bce(fake, 0.0),
                 name="saturating generator loss",
                 hint="saturating=True gives mean log(1 - sigmoid(fake)) = -BCE(fake, 0)")


def test_generator_loss_gradient(student):
    fake = randn((4,), 3, requires_grad=True)
    student.generator_loss(fake).backward()
    assert_close(fake.grad, (torch.sigmoid(fake.detach()) - 1) / 4, name="gradient of the non-saturating loss",
                 hint="d/dz -mean log sigmoid(z) = (sigmoid(z) - 1)/N")


# ---- 2.x LSGAN and cycle consistency -----------------------------------------------------
def test_lsgan_discriminator_loss_values(student):
    assert_close(student.lsgan_discriminator_loss(torch.ones(3), torch.zeros(2)), torch.tensor(0.0),
                 name="LSGAN discriminator loss at its targets", hint="LSGAN targets: real -> 1, fake -> 0")
    real, fake = randn((4,), 4), randn((2, 3), 5)
    expected = 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()
    assert_close(student.lsgan_discriminator_loss(real, fake), expected, name="LSGAN discriminator loss",
                 hint="0.5*mean((real-1)^2) + 0.5*mean(fake^2)")


def test_lsgan_generator_loss_values(student):
    fake = randn((6,), 6)
    assert_close(student.lsgan_generator_loss(fake), 0.5 * ((fake - 1) ** 2).mean(), name="LSGAN generator loss",
                 hint="0.5*mean((fake-1)^2): the generator wants its fakes scored 1")


def test_cycle_consistency_loss_values(student):
    a, b = randn((2, 3, 4, 4), 7), randn((1, 3, 5, 5), 8)
    ra, rb = randn((2, 3, 4, 4), 9), randn((1, 3, 5, 5), 10)
    expected = 10.0 * ((ra - a).abs().mean() + (rb - b).abs().mean())
    assert_close(student.cycle_consistency_loss(a, ra, b, rb), expected, name="cycle-consistency loss",
                 hint="weight * (L1(rec_a, real_a) + L1(rec_b, real_b)), weight 10 by default")


# ---- 3.x DCGAN -------------------------------------------------------------------------
def test_dcgan_init_statistics(student):
    net = nn.Sequential(nn.Conv2d(32, 64, 4, bias=False), nn.BatchNorm2d(256))
    torch.manual_seed(0)
    out = student.dcgan_init_(net)
    assert_true(isinstance(out, nn.Module), "dcgan_init_ should return the module.", "end with `return module`")
    w = net[0].weight.detach()
    assert_true(abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3,
                "your conv weights are not distributed as N(0, 0.02).", "normal_(weight, 0.0, 0.02)")
    assert_true(abs(net[1].weight.detach().mean().item() - 1) < 0.01 and bool((net[1].bias == 0).all()),
                "your batch-norm weights are not ~N(1, 0.02) with bias 0.", "normal_(weight, 1.0, 0.02); zeros_(bias)")


def test_generator_shape(student):
    torch.manual_seed(0)
    g = student.Generator(nz=8, ngf=4, nc=3)
    out = g(torch.randn(2, 8, 1, 1))
    assert_true(tuple(out.shape) == (2, 3, 64, 64), f"Generator output shape {tuple(out.shape)}; expected (2, 3, 64, 64).",
                "five ConvTranspose2d layers: 1 -> 4 -> 8 -> 16 -> 32 -> 64")
    assert_true(float(out.detach().abs().max()) <= 1.0, "Generator output is not in [-1, 1].", "end with Tanh")


def test_discriminator_shape(student):
    torch.manual_seed(0)
    d = student.Discriminator(nc=3, ndf=4)
    out = d(torch.randn(5, 3, 64, 64))
    assert_true(tuple(out.shape) == (5,), f"Discriminator output shape {tuple(out.shape)}; expected (5,).",
                "five Conv2d layers 64 -> 32 -> 16 -> 8 -> 4 -> 1, then flatten to (B,)")
    layers = [cls for _name, cls, _params in student.describe(d)]
    assert_true("Sigmoid" not in layers, "your Discriminator ends with a Sigmoid.",
                "return raw logits: the losses apply the (stable) log-sigmoid themselves")


# ---- 4.x VAE -----------------------------------------------------------------------------
def test_reparameterize_values(student):
    mu, logvar, noise = randn((3, 4), 11), randn((3, 4), 12), randn((3, 4), 13)
    assert_close(student.reparameterize(mu, logvar, noise), mu + torch.exp(0.5 * logvar) * noise,
                 name="reparameterized sample", hint="z = mu + exp(0.5 * logvar) * noise")


def test_gaussian_kl_values(student):
    assert_close(student.gaussian_kl(torch.ones(2, 3), torch.zeros(2, 3)), torch.tensor(1.5),
                 name="KL term", hint="per feature 0.5 * mu^2 when logvar = 0; summed over 3 features")
    mu, logvar = randn((4, 5), 14), randn((4, 5), 15)
    expected = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(1).mean()
    assert_close(student.gaussian_kl(mu, logvar), expected, name="KL term",
                 hint="-0.5 * (1 + logvar - mu^2 - exp(logvar)), summed over features, mean over the batch")
