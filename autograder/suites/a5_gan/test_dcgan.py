"""Hidden tests, task 3: the DCGAN initialisation and the 64x64 Generator / Discriminator.

dcgan_init_ is checked statistically on large layers: with N weights drawn from
N(m, s), the sample mean is within 5 * s/sqrt(N) of m, the sample std within
5 * s/sqrt(2N) of s, and the fraction within one std of m is 0.6827 +- 5 standard errors
(which tells a normal from a uniform of the same std).  The networks are checked only by
what the grader can verify from the outside: the shapes of their state_dict entries, in
order, against the reference's (the student's object is never asked to describe its own
layers), and, with the reference's weights loaded into the student's model, their
outputs (train mode: batch norm uses batch statistics, which is deterministic).
"""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from shared.compare import assert_close, assert_true
from shared.strategies import generator, randn, seeds
from shared.i18n import N_


INIT = (N_("DCGAN init: every Conv2d / ConvTranspose2d weight ~ N(0, 0.02), i.e. torch.nn.init.normal_(weight, "
           "0.0, 0.02) -- a normal with standard deviation 0.02"))
INIT_BN = N_("DCGAN init: BatchNorm weight ~ N(1, 0.02) (normal_(weight, 1.0, 0.02)) and bias = 0")
G_ARCH = (N_("DCGAN generator: ConvTranspose2d(4, 2, 1, bias=False) + BatchNorm2d + ReLU blocks (the first "
             "ConvTranspose2d(nz, ngf*8, 4, 1, 0)), then ConvTranspose2d(ngf, nc, 4, 2, 1) + Tanh"))
D_ARCH = (N_("DCGAN discriminator: Conv2d(4, 2, 1, bias=False) + LeakyReLU(0.2) (BatchNorm2d from the second block "
             "on), final Conv2d(ndf*8, 1, 4, 1, 0), no Sigmoid: it returns raw logits of shape (B,)"))
LOGITS = ("the Discriminator must return raw logits of shape (B,): no Sigmoid at the end (the losses "
          "apply a stable log-sigmoid themselves); " + D_ARCH)
# The course notes' DCGAN discriminator (week 7) has nn.BatchNorm2d(ndf) right after its first
# Conv2d; the reference follows the paper.  A student who copies the notes gets this hint.
NOTES_FIRST_BN = ("the course notes' DCGAN discriminator puts nn.BatchNorm2d(ndf) after its first Conv2d; this "
                  "assignment follows the DCGAN paper (Radford et al.): no batch norm on the discriminator's input "
                  "layer, the first Conv2d goes straight into LeakyReLU(0.2) (see 'Notes vs. this assignment' in the "
                  "handout); " + D_ARCH)

_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


# ---- 3.1 dcgan_init_ -----------------------------------------------------------------------
def _init_target() -> nn.Module:
    """A module with large layers, filled with wrong values so that a no-op is visible."""
    m = nn.Sequential(
        nn.Conv2d(64, 128, 4, bias=False),            # 131072 weights
        nn.BatchNorm2d(4096),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(128, 64, 4, bias=False),   # 131072 weights
        nn.BatchNorm2d(4096),
    )
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(0.3)
    return m


def _check_normal(w: torch.Tensor, mean: float, std: float, what: str, hint: str) -> None:
    w = w.detach().double().flatten()
    n = w.numel()
    m, s = w.mean().item(), w.std().item()
    assert_true(abs(m - mean) < 5 * std / math.sqrt(n),
                N_("the mean of your initialised {what} is {m:.4g}; expected {mean:g} (within {margin:.2g} for {n} "
                   "draws).").format(what=what, m=m, mean=mean, margin=5 * std / math.sqrt(n), n=n), hint)
    assert_true(abs(s - std) < 5 * std / math.sqrt(2 * n),
                N_("the standard deviation of your initialised {what} is {s:.4g}; expected {std:g} (within "
                   "{margin:.2g} for {n} draws).").format(
                       what=what, s=s, std=std, margin=5 * std / math.sqrt(2 * n), n=n), hint)
    p = math.erf(1 / math.sqrt(2))                    # P(|x - mean| < std) for a normal: 0.6827
    frac = ((w - mean).abs() < std).double().mean().item()
    se = math.sqrt(p * (1 - p) / n)
    assert_true(abs(frac - p) < 5 * se,
                N_("{share:.1f} percent of your initialised {what} lie within one std ({std:g}) of {mean:g}; a "
                   "normal distribution puts {expected:.1f} percent there.").format(
                       share=100 * frac, what=what, std=std, mean=mean, expected=100 * p), hint)


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "statistics")
@settings(max_examples=3)
@given(seed=seeds)
def test_dcgan_init_conv_weights(student, seed):
    """3.1 dcgan_init_ draws conv and conv-transpose weights from N(0, 0.02), in place"""
    m = _init_target()
    torch.manual_seed(seed)
    student.dcgan_init_(m)
    _check_normal(m[0].weight, 0.0, 0.02, N_("Conv2d weights"), INIT)
    _check_normal(m[3].weight, 0.0, 0.02, N_("ConvTranspose2d weights"), INIT)


@pytest.mark.task("3.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "statistics")
@settings(max_examples=3)
@given(seed=seeds)
def test_dcgan_init_batchnorm(student, seed):
    """3.1 dcgan_init_ draws batch-norm weights from N(1, 0.02) and sets their biases to 0, in place"""
    m = _init_target()
    torch.manual_seed(seed)
    student.dcgan_init_(m)
    for i in (1, 4):
        _check_normal(m[i].weight, 1.0, 0.02, N_("BatchNorm2d weights"), INIT_BN)
        assert_true(bool((m[i].bias == 0).all()),
                    N_("your initialised BatchNorm2d biases are not all exactly 0."), INIT_BN)


@pytest.mark.task("3.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "api")
def test_dcgan_init_returns_module(student):
    """3.1 dcgan_init_ returns the module it initialised"""
    m = _init_target()
    torch.manual_seed(0)
    out = student.dcgan_init_(m)
    assert_true(isinstance(out, nn.Module),
                N_("dcgan_init_ returned a {name}; expected the module it was given.").format(name=type(out).__name__),
                N_("DCGAN init: end with `return module`, so that net = dcgan_init_(Generator()) works"))
    if out is not m:           # the isolated worker may hand back a copy: same parameters
        theirs, ours = out.state_dict(), m.state_dict()
        same = theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in ours)
        assert_true(same, N_("dcgan_init_ returned a module other than the one it initialised."),
                    N_("DCGAN init: modify the module in place and return that same module"))


# ---- 3.2 / 3.3 the networks ----------------------------------------------------------------
def _randomise_(net: nn.Module, seed: int) -> nn.Module:
    """Reference weights plus non-trivial batch-norm affine parameters and running stats."""
    g = generator(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_(0.0, 0.05, generator=g)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
    return net


def _batchnorm_after_first_conv(shapes) -> bool:
    """state_dict shapes in order: the first conv's 4-D weight, then a 1-D entry (a batch norm's weight)."""
    return len(shapes) > 1 and len(shapes[0]) == 4 and len(shapes[1]) == 1


def _load_reference_weights(student_net, reference_net, hint: str, discriminator: bool = False) -> None:
    """Load the reference's state_dict (weights and batch-norm buffers) into the student's model, matching entries in order
    (names may differ: self.main vs self.net); shapes must agree entry by entry."""
    theirs, ours = student_net.state_dict(), reference_net.state_dict()
    their_shapes = [tuple(v.shape) for v in theirs.values()]
    our_shapes = [tuple(v.shape) for v in ours.values()]
    if discriminator and _batchnorm_after_first_conv(their_shapes) and not _batchnorm_after_first_conv(our_shapes):
        hint = NOTES_FIRST_BN
    assert_true(their_shapes == our_shapes,
                N_("your model's state_dict has {their_shapes} entries whose shapes do not match the DCGAN "
                   "architecture's {our_shapes} entries (in order), so the grader cannot load its weights into it.").format(
                       their_shapes=len(their_shapes), our_shapes=len(our_shapes)), hint)
    student_net.load_state_dict({k: v.clone() for k, v in zip(theirs.keys(), ours.values())})


def _same_architecture(student_net, reference_net, hint: str, discriminator: bool = False) -> None:
    """The shapes of the state_dict entries (weights and batch-norm buffers), in order, must be the
    reference's; names may differ (self.main vs self.net)."""
    theirs = [(k, tuple(v.shape)) for k, v in student_net.state_dict().items()]
    ours = [(k, tuple(v.shape)) for k, v in reference_net.state_dict().items()]
    their_shapes, our_shapes = [s for _, s in theirs], [s for _, s in ours]
    if discriminator and _batchnorm_after_first_conv(their_shapes) and not _batchnorm_after_first_conv(our_shapes):
        hint = NOTES_FIRST_BN
    for i, ((name, shape), (_, expected)) in enumerate(zip(theirs, ours)):
        assert_true(shape == expected,
                    N_("entry {i} of your model's state_dict ({name}) has shape {shape}; the DCGAN architecture's "
                       "entry {i} has shape {expected}.").format(i=i, name=name, shape=shape, expected=expected), hint)
    assert_true(len(theirs) == len(ours),
                N_("your model's state_dict has {theirs} entries; the DCGAN architecture has {ours} (weights, "
                   "batch-norm weights and biases, running statistics).").format(
                       theirs=len(theirs), ours=len(ours)), hint)


def _verified_by_output(student_net, reference_net, x, hint: str, discriminator: bool = False) -> None:
    _load_reference_weights(student_net, reference_net, hint, discriminator=discriminator)
    student_net.eval()
    reference_net.eval()
    with torch.no_grad():
        expected = reference_net(x)
    assert_close(student_net(x), expected, name=N_("output with the DCGAN weights loaded"),
                 hint=N_("the layers your model reports must be the ones it runs; ") + hint)


def _parameter_count(state: dict) -> int:
    return sum(v.numel() for k, v in state.items() if not k.endswith(_BUFFERS))


gen_sizes = st.tuples(st.sampled_from([4, 16, 100]), st.sampled_from([2, 4, 8]), st.sampled_from([1, 3]))
disc_sizes = st.tuples(st.sampled_from([1, 3]), st.sampled_from([2, 4, 8]))


@pytest.mark.task("3.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "architecture")
@settings(max_examples=5)
@given(seed=seeds, sizes=gen_sizes, batch=st.integers(1, 3))
def test_generator_output_shape_and_range(student, seed, sizes, batch):
    """3.2 Generator maps (B, nz, 1, 1) noise to (B, nc, 64, 64) images in [-1, 1]"""
    nz, ngf, nc = sizes
    torch.manual_seed(seed)
    net = student.Generator(nz=nz, ngf=ngf, nc=nc)
    out = net(randn((batch, nz, 1, 1), seed, torch.float32))
    assert_true(isinstance(out, torch.Tensor), N_("your Generator did not return a tensor."), G_ARCH)
    assert_true(tuple(out.shape) == (batch, nc, 64, 64),
                N_("your Generator's output has shape {shape}; expected {expected}.").format(
                    shape=tuple(out.shape), expected=(batch, nc, 64, 64)), G_ARCH)
    out = out.detach()
    assert_true(bool(torch.isfinite(out).all()) and float(out.abs().max()) <= 1.0,
                N_("your Generator's output is not within [-1, 1]."), N_("the generator ends with Tanh; ") + G_ARCH)


@pytest.mark.task("3.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "architecture")
def test_generator_layers(student, reference):
    """3.2 Generator has the DCGAN parameter shapes (ConvTranspose2d / BatchNorm2d layers, in order)"""
    net = student.Generator(nz=100, ngf=64, nc=3)
    ours = reference.Generator(nz=100, ngf=64, nc=3)
    _same_architecture(net, ours, G_ARCH)
    # DCGAN 64x64 generator (nz=100, ngf=64, nc=3): 3,576,704 parameters
    assert_close(_parameter_count(net.state_dict()), _parameter_count(ours.state_dict()),
                 name=N_("number of Generator parameters"), hint=G_ARCH)
    # what a model says about itself is not evidence: the shapes count only if the reference's
    # weights, loaded into it, give the reference's images
    _verified_by_output(net, _randomise_(ours, 7), randn((2, 100, 1, 1), 8, torch.float32), G_ARCH)


@pytest.mark.task("3.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "architecture")
@settings(max_examples=4)
@given(seed=seeds, sizes=gen_sizes, batch=st.integers(1, 3))
def test_generator_matches_reference(student, reference, seed, sizes, batch):
    """3.2 Generator with the reference's weights gives the reference's images"""
    nz, ngf, nc = sizes
    torch.manual_seed(seed)
    ours = _randomise_(reference.Generator(nz=nz, ngf=ngf, nc=nc), seed)
    theirs = student.Generator(nz=nz, ngf=ngf, nc=nc)
    _load_reference_weights(theirs, ours, G_ARCH)
    z = randn((batch, nz, 1, 1), seed + 1, torch.float32)
    with torch.no_grad():
        expected = ours(z)
    assert_close(theirs(z), expected, name=N_("Generator output (reference weights)"),
                 hint=G_ARCH + N_("; check the layer order, stride/padding and the activations"))


@pytest.mark.task("3.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "architecture")
@settings(max_examples=5)
@given(seed=seeds, sizes=disc_sizes, batch=st.integers(1, 4))
def test_discriminator_output_shape(student, seed, sizes, batch):
    """3.3 Discriminator maps (B, nc, 64, 64) images to (B,) logits"""
    nc, ndf = sizes
    torch.manual_seed(seed)
    net = student.Discriminator(nc=nc, ndf=ndf)
    out = net(randn((batch, nc, 64, 64), seed, torch.float32))
    assert_true(isinstance(out, torch.Tensor), N_("your Discriminator did not return a tensor."), LOGITS)
    assert_true(tuple(out.shape) == (batch,),
                N_("your Discriminator's output has shape {shape}; expected {expected}.").format(
                    shape=tuple(out.shape), expected=(batch,)),
                N_("flatten the final (B, 1, 1, 1) map to (B,) logits; ") + D_ARCH)


@pytest.mark.task("3.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "architecture")
def test_discriminator_layers(student, reference):
    """3.3 Discriminator has the DCGAN parameter shapes (Conv2d / BatchNorm2d layers, in order)"""
    net = student.Discriminator(nc=3, ndf=64)
    ours = reference.Discriminator(nc=3, ndf=64)
    _same_architecture(net, ours, D_ARCH, discriminator=True)
    # DCGAN 64x64 discriminator (nc=3, ndf=64): 2,765,568 parameters
    assert_close(_parameter_count(net.state_dict()), _parameter_count(ours.state_dict()),
                 name=N_("number of Discriminator parameters"), hint=D_ARCH)
    _verified_by_output(net, _randomise_(ours, 9), randn((2, 3, 64, 64), 10, torch.float32), D_ARCH,
                        discriminator=True)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "architecture")
@settings(max_examples=4)
@given(seed=seeds, sizes=disc_sizes, batch=st.integers(1, 4))
def test_discriminator_matches_reference(student, reference, seed, sizes, batch):
    """3.3 Discriminator with the reference's weights gives the reference's logits"""
    nc, ndf = sizes
    torch.manual_seed(seed)
    ours = _randomise_(reference.Discriminator(nc=nc, ndf=ndf), seed)
    theirs = student.Discriminator(nc=nc, ndf=ndf)
    _load_reference_weights(theirs, ours, D_ARCH, discriminator=True)
    x = randn((batch, nc, 64, 64), seed + 1, torch.float32, scale=2.0)
    with torch.no_grad():
        expected = ours(x)
    assert_close(theirs(x), expected, name=N_("Discriminator logits (reference weights)"),
                 hint=LOGITS + N_("; LeakyReLU slope 0.2"))
