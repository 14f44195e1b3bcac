"""The a5_gan reference checked against torch, and the stub checked to be a stub.

Independent of the hidden suite: expected values come from torch's BCEWithLogits,
torch.distributions.kl_divergence (and Bernoulli log_prob), autograd on the textbook
(unstable) formulas at moderate logits, the DCGAN tutorial's parameter counts computed
from layer shapes, and the Gram matrix / style loss written out with einsum.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence

from autograder import ROOT
from shared.adapter import load_module

REFERENCE = load_module(ROOT / "solutions" / "a5_gan" / "a5_gan.py", "_a5_reference_under_test")
STUB = load_module(ROOT / "assignments" / "a5_gan" / "a5_gan.py", "_a5_stub_under_test")
TASKS = {"discriminator_loss": "1.1", "generator_loss": "1.2", "lsgan_discriminator_loss": "2.1",
         "lsgan_generator_loss": "2.2", "cycle_consistency_loss": "2.3", "dcgan_init_": "3.1",
         "Generator": "3.2", "Discriminator": "3.3", "reparameterize": "4.1", "gaussian_kl": "4.2",
         "vae_loss": "4.3", "gram_matrix": "5.1", "style_loss": "5.2"}
DTYPES = [torch.float32, torch.float64]


def _bce(x, target):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---- losses against torch ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_gan_losses_equal_bce_with_logits(dtype, scale):
    g = torch.Generator().manual_seed(int(scale))
    real = (torch.randn(7, generator=g, dtype=torch.float64) * scale).to(dtype)
    fake = (torch.randn(3, 4, generator=g, dtype=torch.float64) * scale).to(dtype)
    torch.testing.assert_close(REFERENCE.discriminator_loss(real, fake), _bce(real, 1.0) + _bce(fake, 0.0))
    torch.testing.assert_close(REFERENCE.generator_loss(fake), _bce(fake, 1.0))
    torch.testing.assert_close(REFERENCE.generator_loss(fake, saturating=True), -_bce(fake, 0.0))
    assert REFERENCE.discriminator_loss(real, fake).dtype == dtype
    assert REFERENCE.discriminator_loss(real, fake).shape == ()


@pytest.mark.parametrize("saturating", [False, True])
def test_gan_loss_gradients_match_autograd_of_textbook_formula(saturating):
    """At moderate logits the naive formulas are accurate: autograd through them is the oracle."""
    z = torch.linspace(-6, 6, 13, dtype=torch.float64, requires_grad=True)
    naive = torch.log(1 - torch.sigmoid(z)).mean() if saturating else -torch.log(torch.sigmoid(z)).mean()
    (expected,) = torch.autograd.grad(naive, z)
    z2 = z.detach().clone().requires_grad_(True)
    REFERENCE.generator_loss(z2, saturating=saturating).backward()
    torch.testing.assert_close(z2.grad, expected)


def test_gan_losses_finite_at_extreme_logits():
    for dtype in DTYPES:
        x = torch.tensor([-1e4, -1e3, 0.0, 1e3, 1e4], dtype=dtype, requires_grad=True)
        for loss in (REFERENCE.discriminator_loss(x, x), REFERENCE.generator_loss(x),
                     REFERENCE.generator_loss(x, saturating=True)):
            assert torch.isfinite(loss)
            (grad,) = torch.autograd.grad(loss, x)
            assert torch.isfinite(grad).all()
            torch.testing.assert_close(loss, loss.detach())          # a plain scalar tensor
        # at logit 0 the gradient is the exact sigmoid(0) = 1/2 (not a subgradient of max(x, 0))
        y = torch.zeros(1, dtype=dtype, requires_grad=True)
        REFERENCE.generator_loss(y, saturating=True).backward()
        torch.testing.assert_close(y.grad, torch.tensor([-0.5], dtype=dtype))


def test_lsgan_and_cycle_against_torch():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(5, generator=g), torch.randn(2, 3, generator=g)
    torch.testing.assert_close(REFERENCE.lsgan_discriminator_loss(real, fake),
                               0.5 * F.mse_loss(real, torch.ones_like(real)) + 0.5 * F.mse_loss(fake, torch.zeros_like(fake)))
    torch.testing.assert_close(REFERENCE.lsgan_generator_loss(fake), 0.5 * F.mse_loss(fake, torch.ones_like(fake)))
    a, ra = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    b, rb = torch.randn(1, 1, 5, 5, generator=g), torch.randn(1, 1, 5, 5, generator=g)
    torch.testing.assert_close(REFERENCE.cycle_consistency_loss(a, ra, b, rb, weight=2.5),
                               2.5 * (F.l1_loss(ra, a) + F.l1_loss(rb, b)))
    torch.testing.assert_close(REFERENCE.cycle_consistency_loss(a, ra, b, rb),
                               10.0 * (F.l1_loss(ra, a) + F.l1_loss(rb, b)))


# ---- VAE against torch.distributions --------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_kl_equals_torch_distributions(dtype):
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(6, 9, generator=g, dtype=torch.float64).to(dtype)
    logvar = (torch.rand(6, 9, generator=g, dtype=torch.float64) * 5 - 3).to(dtype)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu)))
    torch.testing.assert_close(REFERENCE.gaussian_kl(mu, logvar), expected.sum(-1).mean())
    assert REFERENCE.gaussian_kl(mu, logvar).dtype == dtype


def test_reparameterize_sample_distribution():
    g = torch.Generator().manual_seed(2)
    mu = torch.full((400_000,), 1.5, dtype=torch.float64)
    logvar = torch.full((400_000,), math.log(4.0), dtype=torch.float64)
    z = REFERENCE.reparameterize(mu, logvar, torch.randn(400_000, generator=g, dtype=torch.float64))
    assert abs(z.mean().item() - 1.5) < 0.02 and abs(z.std().item() - 2.0) < 0.02
    noise = torch.randn(3, 4, generator=g)
    mu2, lv2 = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
    torch.testing.assert_close(REFERENCE.reparameterize(mu2, lv2, noise),
                               mu2 + torch.exp(0.5 * lv2) * noise)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 7), (3, 1, 5, 4)])
def test_vae_loss_equals_torch(dtype, shape):
    g = torch.Generator().manual_seed(3)
    logits = (torch.randn(shape, generator=g, dtype=torch.float64) * 4).to(dtype)
    x = torch.rand(shape, generator=g, dtype=torch.float64).to(dtype)
    x[0] = x[0].round()                                   # exact 0/1 targets too
    mu = torch.randn(shape[0], 3, generator=g, dtype=torch.float64).to(dtype)
    logvar = torch.randn(shape[0], 3, generator=g, dtype=torch.float64).to(dtype)
    for beta in (1.0, 0.25):
        loss, recon, kl = REFERENCE.vae_loss(logits, x, mu, logvar, beta=beta)
        expected_recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / shape[0]
        expected_kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)),
                                    Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1).mean()
        torch.testing.assert_close(recon, expected_recon)
        torch.testing.assert_close(kl, expected_kl)
        torch.testing.assert_close(loss, expected_recon + beta * expected_kl)
        assert loss.shape == recon.shape == kl.shape == () and loss.dtype == dtype
    # binary x: the reconstruction term is minus the Bernoulli log-likelihood
    xb = x.round()
    bern = -torch.distributions.Bernoulli(logits=logits.double()).log_prob(xb.double()).flatten(1).sum(1).mean()
    torch.testing.assert_close(REFERENCE.vae_loss(logits, xb, mu, logvar)[1], bern.to(dtype))


def test_vae_loss_gradients_and_stability():
    # moderate logits: autograd of the textbook formula is the oracle
    l = torch.linspace(-6, 6, 12, dtype=torch.float64).reshape(3, 4).requires_grad_(True)
    x = torch.rand(3, 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    p = torch.sigmoid(l)
    naive = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(1).mean()
    (expected,) = torch.autograd.grad(naive, l)
    l2 = l.detach().clone().requires_grad_(True)
    zeros = torch.zeros(3, 2, dtype=torch.float64)
    REFERENCE.vae_loss(l2, x, zeros, zeros)[0].backward()
    torch.testing.assert_close(l2.grad, expected)
    # logits of +-1e4: finite, equal to torch's stable BCE, gradient sigmoid(l) - x
    for dtype in DTYPES:
        big = torch.tensor([[1e4, -1e4, 1e4, -1e4, 0.0]], dtype=dtype, requires_grad=True)
        xt = torch.tensor([[1.0, 0.0, 0.0, 1.0, 0.5]], dtype=dtype)
        loss, recon, _ = REFERENCE.vae_loss(big, xt, torch.zeros(1, 2, dtype=dtype), torch.zeros(1, 2, dtype=dtype))
        torch.testing.assert_close(recon, F.binary_cross_entropy_with_logits(big.detach(), xt, reduction="sum"))
        loss.backward()
        torch.testing.assert_close(big.grad, torch.sigmoid(big.detach()) - xt)


def test_vae_loss_dispatches_no_forbidden_op():
    """The forbidden_ops of task 4.3 are what the BCE functions dispatch; the reference uses none of them."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from autograder import registry

    class Ops(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.seen.add(f"aten::{func.overloadpacket.__name__}")
            return func(*args, **(kwargs or {}))

    task = registry.get("a5_gan").task("4.3")
    forbidden = set(task.forbidden_ops)
    l, x = torch.randn(3, 4), torch.rand(3, 4)
    for call in (lambda: F.binary_cross_entropy_with_logits(l, x), lambda: F.binary_cross_entropy(torch.sigmoid(l), x),
                 lambda: F.softplus(l), lambda: F.logsigmoid(l)):
        with Ops() as ops:
            call()
        assert ops.seen & forbidden, sorted(ops.seen)
    lr = l.clone().requires_grad_(True)
    with Ops() as ops:
        REFERENCE.vae_loss(lr, x, torch.randn(3, 2), torch.randn(3, 2))[0].backward()
    assert not ops.seen & forbidden, sorted(ops.seen & forbidden)
    assert task.calls == ("gaussian_kl",)
    assert registry.get("a5_gan").task("5.2").calls == ("gram_matrix",)


# ---- style transfer against einsum ------------------------------------------------------
def _gram(f):
    b, c, h, w = f.shape
    return torch.einsum("bihw,bjhw->bij", f, f) / (c * h * w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gram_matrix_and_style_loss_equal_einsum(dtype):
    g = torch.Generator().manual_seed(5)
    feats = [torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for s in [(2, 3, 4, 5), (2, 6, 2, 2)]]
    styles = [torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for s in [(2, 3, 4, 5), (2, 6, 2, 2)]]
    for f in feats:
        gram = REFERENCE.gram_matrix(f)
        torch.testing.assert_close(gram, _gram(f))
        torch.testing.assert_close(gram, gram.transpose(1, 2))                     # symmetric
        for b in range(f.shape[0]):                                                 # samples do not mix
            torch.testing.assert_close(gram[b], f[b].reshape(f.shape[1], -1) @ f[b].reshape(f.shape[1], -1).T
                                       / f[b].numel())
    expected = sum(w * ((_gram(a) - _gram(b)) ** 2).mean() for w, a, b in zip([0.7, 2.0], feats, styles))
    torch.testing.assert_close(REFERENCE.style_loss(feats, styles, [0.7, 2.0]), expected)
    unweighted = sum(((_gram(a) - _gram(b)) ** 2).mean() for a, b in zip(feats, styles))
    torch.testing.assert_close(REFERENCE.style_loss(feats, styles), unweighted)
    # one style image for the whole batch broadcasts
    one = [s[:1] for s in styles]
    torch.testing.assert_close(REFERENCE.style_loss(feats, one),
                               sum(((_gram(a) - _gram(b)) ** 2).mean() for a, b in zip(feats, one)))
    assert REFERENCE.style_loss(feats, feats).item() == 0.0
    # gradients flow to the generated features
    leaf = feats[0].detach().double().requires_grad_(True)
    REFERENCE.style_loss([leaf], [styles[0].double()]).backward()
    assert leaf.grad is not None and leaf.grad.abs().sum() > 0


# ---- DCGAN against the tutorial's numbers -------------------------------------------------
def _generator_params(nz, ngf, nc):
    """ConvTranspose2d weights (in, out, 4, 4), no bias; BatchNorm2d weight + bias."""
    chans = [nz, ngf * 8, ngf * 4, ngf * 2, ngf, nc]
    convs = sum(cin * cout * 16 for cin, cout in zip(chans, chans[1:]))
    return convs + sum(2 * c for c in chans[1:-1])


def _discriminator_params(nc, ndf):
    chans = [nc, ndf, ndf * 2, ndf * 4, ndf * 8, 1]
    convs = sum(cin * cout * 16 for cin, cout in zip(chans, chans[1:]))
    return convs + sum(2 * c for c in chans[2:-1])            # no batch norm after the first conv


def test_dcgan_parameter_counts_match_the_tutorial():
    g, d = REFERENCE.Generator(), REFERENCE.Discriminator()
    # the PyTorch DCGAN tutorial's 64x64 networks (nz=100, ngf=ndf=64, nc=3)
    assert _generator_params(100, 64, 3) == 3_576_704
    assert _discriminator_params(3, 64) == 2_765_568
    assert sum(p.numel() for p in g.parameters()) == 3_576_704
    assert sum(p.numel() for p in d.parameters()) == 2_765_568
    for nz, ngf, nc in [(16, 8, 1), (100, 4, 3)]:
        assert sum(p.numel() for p in REFERENCE.Generator(nz, ngf, nc).parameters()) == _generator_params(nz, ngf, nc)
        assert sum(p.numel() for p in REFERENCE.Discriminator(nc, ngf).parameters()) == _discriminator_params(nc, ngf)


def test_dcgan_layer_shapes_and_outputs():
    torch.manual_seed(0)
    g, d = REFERENCE.Generator(nz=16, ngf=8, nc=3), REFERENCE.Discriminator(nc=3, ndf=8)
    convs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [tuple(m.weight.shape) for m in convs] == [(16, 64, 4, 4), (64, 32, 4, 4), (32, 16, 4, 4),
                                                      (16, 8, 4, 4), (8, 3, 4, 4)]
    assert all(m.bias is None for m in convs)
    assert [(m.stride, m.padding) for m in convs] == [((1, 1), (0, 0))] + [((2, 2), (1, 1))] * 4
    assert isinstance(list(g.modules())[-1], nn.Tanh)
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    slopes = {m.negative_slope for m in d.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}
    images = g(torch.randn(3, 16, 1, 1))
    assert images.shape == (3, 3, 64, 64) and images.abs().max() <= 1
    logits = d(images)
    assert logits.shape == (3,)
    assert d(torch.randn(1, 3, 64, 64)).shape == (1,)


def test_dcgan_init_statistics_and_in_place():
    net = nn.Sequential(nn.Conv2d(64, 128, 4, bias=False), nn.ConvTranspose2d(128, 64, 4), nn.BatchNorm2d(4096),
                        nn.BatchNorm1d(8), nn.Conv1d(2, 2, 3))
    torch.manual_seed(0)
    assert REFERENCE.dcgan_init_(net) is net
    for w in (net[0].weight, net[1].weight):
        assert abs(w.mean().item()) < 5 * 0.02 / math.sqrt(w.numel())
        assert abs(w.std().item() - 0.02) < 5 * 0.02 / math.sqrt(2 * w.numel())
    assert abs(net[2].weight.mean().item() - 1) < 5 * 0.02 / 64
    assert abs(net[2].weight.std().item() - 0.02) < 5 * 0.02 / math.sqrt(8192)
    assert (net[2].bias == 0).all() and (net[3].bias == 0).all()
    assert net[4].weight.abs().max() < 0.2          # Conv1d initialised too
    # reproducible through the global RNG
    net2 = nn.Sequential(nn.Conv2d(64, 128, 4, bias=False))
    torch.manual_seed(0)
    REFERENCE.dcgan_init_(net2)
    assert torch.equal(net2[0].weight, net[0].weight)


# ---- the stub ------------------------------------------------------------------------------
