"""Hidden tests, task 3: the DCGAN initialisation and the 64x64 Generator / Discriminator.

dcgan_init_ is checked statistically on large layers: with N weights drawn from
N(m, s), the sample mean is within 5 * s/sqrt(N) of m, the sample std within
5 * s/sqrt(2N) of s, and the fraction within one std of m is 0.6827 +- 5 standard errors
(which tells a normal from a uniform of the same std).  The networks are checked by
their layer types, their parameter shapes (against the reference) and, with the
reference's weights loaded into the student's model, their outputs.  The models stay
in train mode (batch norm uses batch statistics, which is deterministic): the worker
cannot yet run `.eval()` on a student object (its result, the module itself, is refused
as a return value; see the report on autograder/_worker_main.py).
"""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from shared.adapter import describe_module
from shared.compare import assert_close, assert_true
from shared.strategies import generator, randn, seeds

pytestmark = pytest.mark.visibility("hidden")

INIT = ("DCGAN init: every Conv2d / ConvTranspose2d weight ~ N(0, 0.02), i.e. "
        "torch.nn.init.normal_(weight, 0.0, 0.02) -- a normal with standard deviation 0.02")
INIT_BN = "DCGAN init: BatchNorm weight ~ N(1, 0.02) (normal_(weight, 1.0, 0.02)) and bias = 0"
G_ARCH = ("DCGAN generator: ConvTranspose2d(4, 2, 1, bias=False) + BatchNorm2d + ReLU blocks "
          "(the first ConvTranspose2d(nz, ngf*8, 4, 1, 0)), then ConvTranspose2d(ngf, nc, 4, 2, 1) + Tanh")
D_ARCH = ("DCGAN discriminator: Conv2d(4, 2, 1, bias=False) + LeakyReLU(0.2) (BatchNorm2d from the second "
          "block on), final Conv2d(ndf*8, 1, 4, 1, 0), no Sigmoid: it returns raw logits of shape (B,)")
LOGITS = ("the Discriminator must return raw logits of shape (B,): no Sigmoid at the end (the losses "
          "apply a stable log-sigmoid themselves); " + D_ARCH)

_PARAM_LAYERS = {"Conv2d", "ConvTranspose2d", "BatchNorm2d", "Linear", "Conv1d", "Conv3d",
                 "ConvTranspose1d", "ConvTranspose3d", "BatchNorm1d", "BatchNorm3d", "InstanceNorm2d",
                 "LayerNorm", "GroupNorm"}
_ACTIVATIONS = {"ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softmax", "ELU", "GELU", "SiLU", "Hardtanh",
                "LogSigmoid", "PReLU", "ReLU6", "Softplus"}


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
                f"the mean of your initialised {what} is {m:.4g}; expected {mean:g} "
                f"(within {5 * std / math.sqrt(n):.2g} for {n} draws).", hint)
    assert_true(abs(s - std) < 5 * std / math.sqrt(2 * n),
                f"the standard deviation of your initialised {what} is {s:.4g}; expected {std:g} "
                f"(within {5 * std / math.sqrt(2 * n):.2g} for {n} draws).", hint)
    p = math.erf(1 / math.sqrt(2))                    # P(|x - mean| < std) for a normal: 0.6827
    frac = ((w - mean).abs() < std).double().mean().item()
    se = math.sqrt(p * (1 - p) / n)
    assert_true(abs(frac - p) < 5 * se,
                f"{100 * frac:.1f}% of your initialised {what} lie within one std ({std:g}) of {mean:g}; "
                f"a normal distribution puts {100 * p:.1f}% there.", hint)


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
    _check_normal(m[0].weight, 0.0, 0.02, "Conv2d weights", INIT)
    _check_normal(m[3].weight, 0.0, 0.02, "ConvTranspose2d weights", INIT)


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
        _check_normal(m[i].weight, 1.0, 0.02, "BatchNorm2d weights", INIT_BN)
        assert_true(bool((m[i].bias == 0).all()),
                    "your initialised BatchNorm2d biases are not all exactly 0.", INIT_BN)


@pytest.mark.task("3.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "api")
def test_dcgan_init_returns_module(student):
    """3.1 dcgan_init_ returns the module it initialised"""
    m = _init_target()
    torch.manual_seed(0)
    out = student.dcgan_init_(m)
    assert_true(isinstance(out, nn.Module),
                f"dcgan_init_ returned a {type(out).__name__}; expected the module it was given.",
                "DCGAN init: end with `return module`, so that net = dcgan_init_(Generator()) works")
    if out is not m:           # the isolated worker may hand back a copy: same parameters
        theirs, ours = out.state_dict(), m.state_dict()
        same = theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in ours)
        assert_true(same, "dcgan_init_ returned a module other than the one it initialised.",
                    "DCGAN init: modify the module in place and return that same module")


# ---- 3.2 / 3.3 the networks ----------------------------------------------------------------
def _layers(description) -> list[tuple[str, dict]]:
    """(class name, {param: shape}) of every parameterised layer, in registration order."""
    return [(cls, params) for _name, cls, params in description if cls in _PARAM_LAYERS]


def _activations(description) -> set[str]:
    return {cls for _name, cls, _params in description if cls in _ACTIVATIONS}


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


def _load_reference_weights(student_net, reference_net, hint: str) -> None:
    """Load the reference's state_dict (weights and batch-norm buffers) into the student's model, matching entries in order
    (names may differ: self.main vs self.net); shapes must agree entry by entry."""
    theirs, ours = student_net.state_dict(), reference_net.state_dict()
    their_shapes = [tuple(v.shape) for v in theirs.values()]
    our_shapes = [tuple(v.shape) for v in ours.values()]
    assert_true(their_shapes == our_shapes,
                f"your model's state_dict has {len(their_shapes)} entries whose shapes do not match the "
                f"DCGAN architecture's {len(our_shapes)} entries (in order), so the grader cannot load "
                "its weights into it.", hint)
    student_net.load_state_dict({k: v.clone() for k, v in zip(theirs.keys(), ours.values())})


def _same_architecture(student, student_net, reference_net, hint: str) -> None:
    theirs = _layers(student.describe(student_net))
    ours = _layers(describe_module(reference_net))
    assert_true([c for c, _ in theirs] == [c for c, _ in ours],
                f"your layers with parameters are {[c for c, _ in theirs]}; expected {[c for c, _ in ours]}.",
                hint)
    for i, ((cls, p_theirs), (_, p_ours)) in enumerate(zip(theirs, ours)):
        assert_true(p_theirs == p_ours,
                    f"your layer {i} ({cls}) has parameters {p_theirs}; expected {p_ours}.", hint)


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
    assert_true(isinstance(out, torch.Tensor), "your Generator did not return a tensor.", G_ARCH)
    assert_true(tuple(out.shape) == (batch, nc, 64, 64),
                f"your Generator's output has shape {tuple(out.shape)}; expected {(batch, nc, 64, 64)}.", G_ARCH)
    out = out.detach()
    assert_true(bool(torch.isfinite(out).all()) and float(out.abs().max()) <= 1.0,
                "your Generator's output is not within [-1, 1].", "the generator ends with Tanh; " + G_ARCH)


@pytest.mark.task("3.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "architecture")
def test_generator_layers(student, reference):
    """3.2 Generator uses ConvTranspose2d / BatchNorm2d / ReLU / Tanh with the DCGAN parameter shapes"""
    net = student.Generator(nz=100, ngf=64, nc=3)
    description = student.describe(net)
    extra = _activations(description) - {"ReLU", "Tanh"}
    assert_true(not extra, f"your Generator contains {sorted(extra)} layers.", G_ARCH)
    _same_architecture(student, net, reference.Generator(nz=100, ngf=64, nc=3), G_ARCH)
    n_params = sum(math.prod(shape) for _n, _c, params in description for shape in params.values())
    # DCGAN 64x64 generator (nz=100, ngf=64, nc=3): sum of the layer shapes = 3,576,704
    expected = sum(p.numel() for p in reference.Generator(nz=100, ngf=64, nc=3).parameters())
    assert_close(n_params, expected, name="number of Generator parameters", hint=G_ARCH)


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
    assert_close(theirs(z), expected, name="Generator output (reference weights)",
                 hint=G_ARCH + "; check the layer order, stride/padding and the activations")


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
    assert_true(isinstance(out, torch.Tensor), "your Discriminator did not return a tensor.", LOGITS)
    assert_true(tuple(out.shape) == (batch,),
                f"your Discriminator's output has shape {tuple(out.shape)}; expected {(batch,)}.",
                "flatten the final (B, 1, 1, 1) map to (B,) logits; " + D_ARCH)


@pytest.mark.task("3.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "architecture")
def test_discriminator_layers(student, reference):
    """3.3 Discriminator uses Conv2d / BatchNorm2d / LeakyReLU, no Sigmoid, with the DCGAN parameter shapes"""
    net = student.Discriminator(nc=3, ndf=64)
    description = student.describe(net)
    acts = _activations(description)
    assert_true("Sigmoid" not in acts and "LogSigmoid" not in acts,
                "your Discriminator contains a Sigmoid layer.", LOGITS)
    extra = acts - {"LeakyReLU"}
    assert_true(not extra, f"your Discriminator contains {sorted(extra)} layers.", D_ARCH)
    _same_architecture(student, net, reference.Discriminator(nc=3, ndf=64), D_ARCH)
    n_params = sum(math.prod(shape) for _n, _c, params in description for shape in params.values())
    # DCGAN 64x64 discriminator (nc=3, ndf=64): sum of the layer shapes = 2,765,568
    expected = sum(p.numel() for p in reference.Discriminator(nc=3, ndf=64).parameters())
    assert_close(n_params, expected, name="number of Discriminator parameters", hint=D_ARCH)


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
    _load_reference_weights(theirs, ours, D_ARCH)
    x = randn((batch, nc, 64, 64), seed + 1, torch.float32, scale=2.0)
    with torch.no_grad():
        expected = ours(x)
    assert_close(theirs(x), expected, name="Discriminator logits (reference weights)",
                 hint=LOGITS + "; LeakyReLU slope 0.2")
