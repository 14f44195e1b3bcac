"""Public tests for a5_gan.  Run them with

    python grade.py check a5_gan path/to/a5_gan.py
    python -m pytest test_public.py -k generator_loss        # one function's checks

They are small sanity checks; the hidden tests use many more inputs, check gradients,
stability at logits of +-1e4, the DCGAN parameter shapes and outputs, and speed.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shared.compare import assert_close, assert_true
from shared.strategies import randn
from shared.i18n import N_

pytestmark = pytest.mark.visibility("visible")


def _bce(x, target):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))


# ---- 1.1 discriminator_loss -------------------------------------------------------------
def test_discriminator_loss_zero_logits(student):
    out = student.discriminator_loss(torch.zeros(4), torch.zeros(2))
    assert_close(out, torch.tensor(2 * math.log(2.0)), name=N_("discriminator loss at logits 0"),
                 hint=N_("BCE(0, 1) = BCE(0, 0) = log 2, and the loss is the sum of the two means"))


def test_discriminator_loss_matches_bce(student):
    real, fake = randn((6,), 0), randn((3, 2), 1)
    expected = _bce(real, 1.0) + _bce(fake, 0.0)
    assert_close(student.discriminator_loss(real, fake), expected, name=N_("discriminator loss"),
                 hint=N_("BCE(real, 1) + BCE(fake, 0) on raw logits"))


def test_discriminator_loss_large_logits(student):
    real = torch.tensor([1e4, -1e4, 5.0], dtype=torch.float64, requires_grad=True)
    fake = torch.tensor([-1e4, 1e4], dtype=torch.float64, requires_grad=True)
    loss = student.discriminator_loss(real, fake)
    assert_close(loss, torch.tensor((1e4 + math.log1p(math.exp(-5.0))) / 3 + 1e4 / 2, dtype=torch.float64),
                 name=N_("discriminator loss at logits +-1e4"),
                 hint=N_("use the stable form log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))"))
    loss.backward()
    assert_true(bool(torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()),
                N_("the gradients of your discriminator loss are not finite at logits +-1e4."),
                N_("log(sigmoid(x)) gives log(0) = -inf for very negative x: use the stable log-sum-exp form"))


# ---- 1.2 generator_loss -----------------------------------------------------------------
def test_generator_loss_both_modes(student):
    fake = randn((5,), 2)
    assert_close(student.generator_loss(fake), _bce(fake, 1.0), name=N_("non-saturating generator loss"),
                 hint=N_("the default is the non-saturating loss BCE(fake, 1) = -mean log sigmoid(fake)"))
    assert_close(student.generator_loss(fake, saturating=True), -_bce(fake, 0.0),
                 name=N_("saturating generator loss"),
                 hint=N_("saturating=True gives mean log(1 - sigmoid(fake)) = -BCE(fake, 0)"))


def test_generator_loss_gradient(student):
    fake = randn((4,), 3, requires_grad=True)
    student.generator_loss(fake).backward()
    assert_close(fake.grad, (torch.sigmoid(fake.detach()) - 1) / 4, name=N_("gradient of the non-saturating loss"),
                 hint=N_("d/dz -mean log sigmoid(z) = (sigmoid(z) - 1)/N"))


# ---- 2.x LSGAN and cycle consistency -----------------------------------------------------
def test_lsgan_discriminator_loss_values(student):
    assert_close(student.lsgan_discriminator_loss(torch.ones(3), torch.zeros(2)), torch.tensor(0.0),
                 name=N_("LSGAN discriminator loss at its targets"), hint=N_("LSGAN targets: real -> 1, fake -> 0"))
    real, fake = randn((4,), 4), randn((2, 3), 5)
    expected = 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()
    assert_close(student.lsgan_discriminator_loss(real, fake), expected, name=N_("LSGAN discriminator loss"),
                 hint=N_("0.5*mean((real-1)^2) + 0.5*mean(fake^2)"))


def test_lsgan_generator_loss_values(student):
    fake = randn((6,), 6)
    assert_close(student.lsgan_generator_loss(fake), 0.5 * ((fake - 1) ** 2).mean(), name=N_("LSGAN generator loss"),
                 hint=N_("0.5*mean((fake-1)^2): the generator wants its fakes scored 1"))


def test_cycle_consistency_loss_values(student):
    a, b = randn((2, 3, 4, 4), 7), randn((1, 3, 5, 5), 8)
    ra, rb = randn((2, 3, 4, 4), 9), randn((1, 3, 5, 5), 10)
    expected = 10.0 * ((ra - a).abs().mean() + (rb - b).abs().mean())
    assert_close(student.cycle_consistency_loss(a, ra, b, rb), expected, name=N_("cycle-consistency loss"),
                 hint=N_("weight * (L1(rec_a, real_a) + L1(rec_b, real_b)), weight 10 by default"))


# ---- 3.x DCGAN -------------------------------------------------------------------------
def test_dcgan_init_statistics(student):
    net = nn.Sequential(nn.Conv2d(32, 64, 4, bias=False), nn.BatchNorm2d(256))
    torch.manual_seed(0)
    out = student.dcgan_init_(net)
    assert_true(isinstance(out, nn.Module), N_("dcgan_init_ should return the module."), N_("end with `return module`"))
    w = net[0].weight.detach()
    assert_true(abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3,
                N_("your conv weights are not distributed as N(0, 0.02)."), N_("normal_(weight, 0.0, 0.02)"))
    assert_true(abs(net[1].weight.detach().mean().item() - 1) < 0.01 and bool((net[1].bias == 0).all()),
                N_("your batch-norm weights are not ~N(1, 0.02) with bias 0."),
                N_("normal_(weight, 1.0, 0.02); zeros_(bias)"))


def test_generator_shape(student):
    torch.manual_seed(0)
    g = student.Generator(nz=8, ngf=4, nc=3)
    out = g(torch.randn(2, 8, 1, 1))
    assert_true(tuple(out.shape) == (2, 3, 64, 64),
                N_("Generator output shape {shape}; expected (2, 3, 64, 64).").format(shape=tuple(out.shape)),
                N_("five ConvTranspose2d layers: 1 -> 4 -> 8 -> 16 -> 32 -> 64"))
    assert_true(float(out.detach().abs().max()) <= 1.0, N_("Generator output is not in [-1, 1]."), N_("end with Tanh"))


def _dcgan_discriminator(nc, ndf):
    """The table of README Task 3.3, built from torch modules (for comparing outputs)."""
    def block(c_in, c_out, norm):
        return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)] + ([nn.BatchNorm2d(c_out)] if norm else []) + \
            [nn.LeakyReLU(0.2)]
    return nn.Sequential(*block(nc, ndf, False), *block(ndf, ndf * 2, True), *block(ndf * 2, ndf * 4, True),
                         *block(ndf * 4, ndf * 8, True), nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False))


def test_discriminator_shape(student):
    torch.manual_seed(0)
    d = student.Discriminator(nc=3, ndf=4)
    out = d(torch.randn(5, 3, 64, 64))
    assert_true(tuple(out.shape) == (5,),
                N_("Discriminator output shape {shape}; expected (5,).").format(shape=tuple(out.shape)),
                N_("five Conv2d layers 64 -> 32 -> 16 -> 8 -> 4 -> 1, then flatten to (B,)"))


def test_discriminator_logits_with_dcgan_weights(student):
    torch.manual_seed(1)
    ours = _dcgan_discriminator(3, 4)
    d = student.Discriminator(nc=3, ndf=4)
    theirs = d.state_dict()
    their_shapes = [tuple(v.shape) for v in theirs.values()]
    our_shapes = [tuple(v.shape) for v in ours.state_dict().values()]
    assert_true(their_shapes[1:2] != [(4,)],
                N_("your Discriminator has a BatchNorm2d right after its first Conv2d."),
                N_("the notes' DCGAN discriminator has one there; this assignment follows the DCGAN paper: no "
                   "batch norm on the first layer (see 'Notes vs. this assignment' in README.md)"))
    assert_true(their_shapes == our_shapes,
                N_("your Discriminator's state_dict shapes are {their_shapes}; expected {our_shapes}.").format(
                    their_shapes=their_shapes, our_shapes=our_shapes),
                N_("the layers of the table in README.md, in that order"))
    d.load_state_dict(dict(zip(theirs.keys(), ours.state_dict().values())))
    x = torch.randn(3, 3, 64, 64) * 3
    with torch.no_grad():
        expected = ours(x).view(-1)
    assert_close(d(x), expected, name=N_("Discriminator logits (DCGAN weights)"),
                 hint=N_("return raw logits: no Sigmoid at the end, the losses apply the (stable) log-sigmoid"))


# ---- 4.x VAE -----------------------------------------------------------------------------
def test_reparameterize_values(student):
    mu, logvar, noise = randn((3, 4), 11), randn((3, 4), 12), randn((3, 4), 13)
    assert_close(student.reparameterize(mu, logvar, noise), mu + torch.exp(0.5 * logvar) * noise,
                 name=N_("reparameterized sample"), hint=N_("z = mu + exp(0.5 * logvar) * noise"))


def test_gaussian_kl_values(student):
    assert_close(student.gaussian_kl(torch.ones(2, 3), torch.zeros(2, 3)), torch.tensor(1.5),
                 name=N_("KL term"), hint=N_("per feature 0.5 * mu^2 when logvar = 0; summed over 3 features"))
    mu, logvar = randn((4, 5), 14), randn((4, 5), 15)
    expected = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(1).mean()
    assert_close(student.gaussian_kl(mu, logvar), expected, name=N_("KL term"),
                 hint=N_("-0.5 * (1 + logvar - mu^2 - exp(logvar)), summed over features, mean over the batch"))



def test_vae_loss_values(student):
    logits = randn((3, 1, 4, 4), 16) * 3
    x = torch.rand((3, 1, 4, 4), generator=torch.Generator().manual_seed(17), dtype=torch.float64)
    mu, logvar = randn((3, 5), 18), randn((3, 5), 19)
    result = student.vae_loss(logits, x, mu, logvar, beta=0.5)
    assert_true(isinstance(result, (tuple, list)) and len(result) == 3, N_("vae_loss should return (loss, recon, kl)."),
                N_("return loss, recon, kl"))
    loss, recon, kl = result
    expected_recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 3
    expected_kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(1).mean()
    assert_close(recon, expected_recon, name=N_("recon"),
                 hint=N_("Bernoulli NLL (BCE with target x) from logits, summed over the features, mean over the batch"))
    assert_close(kl, expected_kl, name="kl", hint=N_("kl = gaussian_kl(mu, logvar)"))
    assert_close(loss, expected_recon + 0.5 * expected_kl, name=N_("loss"), hint=N_("loss = recon + beta * kl"))


def test_vae_loss_large_logits(student):
    logits = torch.tensor([[1e4, -1e4, 5.0], [-1e4, 1e4, -5.0]], requires_grad=True)
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    loss, recon, kl = student.vae_loss(logits, x, torch.zeros(2, 2), torch.zeros(2, 2))
    assert_close(recon, F.binary_cross_entropy_with_logits(logits.detach(), x, reduction="sum") / 2,
                 name=N_("recon at logits of +-1e4"), hint=N_("softplus(l) - x*l with a stable softplus (log-sum-exp)"))
    loss.backward()
    assert_true(bool(torch.isfinite(logits.grad).all()), N_("the gradient of vae_loss is not finite at logits of +-1e4."),
                N_("write softplus(l) = max(l, 0) + log1p(exp(-|l|)) (or torch.logaddexp(l, 0))"))


# ---- 5.x style transfer ---------------------------------------------------------------------
def test_gram_matrix_values(student):
    f = randn((2, 3, 4, 5), 20)
    expected = torch.einsum("bchw,bdhw->bcd", f, f) / (3 * 4 * 5)
    assert_close(student.gram_matrix(f), expected, name=N_("Gram matrix"),
                 hint=N_("per sample: F = features[b].reshape(C, H*W), G = F @ F^T / (C*H*W)"))


def test_style_loss_values(student):
    gen = [randn((2, 3, 4, 4), 21), randn((2, 5, 2, 3), 22)]
    style = [randn((2, 3, 4, 4), 23), randn((2, 5, 2, 3), 24)]

    def gram(f):
        return torch.einsum("bchw,bdhw->bcd", f, f) / f[0].numel()

    expected = sum(w * ((gram(g) - gram(s)) ** 2).mean() for w, g, s in zip([1.0, 0.3], gen, style))
    assert_close(student.style_loss(gen, style, [1.0, 0.3]), expected, name=N_("style loss"),
                 hint=N_("sum over layers of w_l * mean((gram(gen_l) - gram(style_l))^2)"))
    assert_close(student.style_loss(gen, gen), torch.zeros((), dtype=torch.float64), name=N_("style loss of identical "
                    "features"), hint=N_("the same features have the same Gram matrices"))
