"""Hypothesis composites and small helpers for the a1_cnn hidden suite.

Hypothesis draws the configuration (sizes, stride, padding, ...) and a seed; the
tensors are built from that seed with shared.strategies.randn, so every case is
reproducible.  Expected values always come from torch (F.conv2d and friends, or
shapes torch computes on the "meta" device), never from the code under test.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pytest
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from shared.compare import assert_true
from shared.feedback import Feedback, StudentCodeError
from shared.strategies import randn, seeds
from shared.i18n import N_



def int_or_pair(lo: int, hi: int):
    """An int, or a pair of ints (one per spatial dim)."""
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


def pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


@dataclass
class ConvCase:
    """One conv2d configuration; ``tensors(dtype)`` builds x, weight, bias from the seed."""
    seed: int
    x_shape: tuple
    w_shape: tuple
    has_bias: bool
    kwargs: dict = field(default_factory=dict)

    def tensors(self, dtype=torch.float64, device="cpu", requires_grad=False):
        x = randn(self.x_shape, self.seed, dtype, device, requires_grad=requires_grad)
        w = randn(self.w_shape, self.seed + 1, dtype, device, scale=0.5, requires_grad=requires_grad)
        b = randn((self.w_shape[0],), self.seed + 2, dtype, device, requires_grad=requires_grad) \
            if self.has_bias else None
        return x, w, b


@st.composite
def conv_cases(draw, *, stride=False, padding=False, dilation=False, groups=False, bias=False,
               same=False, max_batch=2):
    """A valid conv2d configuration using only the requested features.

    ``padding`` draws ints / pairs, ``same`` draws 'same' / 'valid' (stride stays 1 then).
    The spatial size always leaves at least one output pixel.
    """
    n = draw(st.integers(1, max_batch))
    g = draw(st.sampled_from([1, 2, 3])) if groups else 1
    if groups and draw(st.booleans()):
        cin_g = 1                                     # depthwise: one input channel per group
    else:
        cin_g = draw(st.integers(2 if groups else 1, 3))
    cout_g = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kwargs = {}
    s = draw(int_or_pair(1, 3)) if stride else 1
    d = draw(int_or_pair(1, 3)) if dilation else 1
    if stride:
        kwargs["stride"] = s
    if dilation:
        kwargs["dilation"] = d
    if padding:
        kwargs["padding"] = draw(int_or_pair(0, 2))
    if same:
        kwargs["padding"] = draw(st.sampled_from(["same", "same", "valid"]))
    if groups:
        kwargs["groups"] = g
    (dh, dw) = pair(d)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = span_h + draw(st.integers(0, 6))
    w = span_w + draw(st.integers(0, 6))
    has_bias = draw(st.booleans()) if bias is None else bias
    return ConvCase(draw(seeds), (n, g * cin_g, h, w), (g * cout_g, cin_g, kh, kw), has_bias, kwargs)


def mixed_cases():
    """Every feature at once (bias drawn too)."""
    return st.one_of(
        conv_cases(stride=True, padding=True, dilation=True, groups=True, bias=None),
        conv_cases(same=True, dilation=True, groups=True, bias=None),
    )


# ---- shapes from torch itself (meta tensors: no compute) ---------------------------------------
def _meta(*shape):
    return torch.empty(*shape, device="meta")


def torch_conv_output_shape(size, kernel, stride, padding, dilation) -> tuple[int, ...] | None:
    """Spatial output shape torch computes for an N-d convolution (None when torch refuses)."""
    size, kernel = tuple(size), tuple(kernel)
    conv = getattr(F, f"conv{len(size)}d")
    try:
        with warnings.catch_warnings():
            # torch warns that 'same' with an even kernel needs a padded copy; expected here
            warnings.filterwarnings("ignore", message="Using padding='same'")
            out = conv(_meta(1, 1, *size), _meta(1, 1, *kernel), stride=stride, padding=padding,
                       dilation=dilation)
    except RuntimeError:
        return None
    return tuple(out.shape[2:])


def torch_conv_transpose_output_shape(size, kernel, stride, padding, output_padding, dilation):
    size, kernel = tuple(size), tuple(kernel)
    conv = getattr(F, f"conv_transpose{len(size)}d")
    try:
        out = conv(_meta(1, 1, *size), _meta(1, 1, *kernel), stride=stride, padding=padding,
                   output_padding=output_padding, dilation=dilation)
    except RuntimeError:
        return None
    shape = tuple(out.shape[2:])
    return shape if all(s > 0 for s in shape) else None


def brute_force_receptive_field(layers) -> int:
    """Receptive field measured with autograd: a 1-D stack of all-ones convolutions,
    and the span of the input pixels that the first output unit depends on."""
    length = 16
    while True:
        x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
        y = x
        try:
            for layer in layers:
                k, s, d = (*layer, 1)[:3]
                y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
        except RuntimeError:          # input too short for this stack: try a longer one
            length *= 2
            continue
        if y.shape[-1] == 0:
            length *= 2
            continue
        y[0, 0, 0].backward()
        touched = torch.nonzero(x.grad[0, 0]).flatten()
        return int(touched[-1] - touched[0] + 1)


# ---- "must raise ValueError" checks --------------------------------------------------------------
def raised_detail(exc: StudentCodeError) -> str:
    """The student's own exception message, without our 'fn raised X:' prefix and the
    source-line suffix (which would contain the function's name)."""
    detail = getattr(exc, "detail", None)
    if detail is not None:
        return str(detail)
    text = getattr(exc, "message", str(exc))
    exc_type = getattr(exc, "exc_type", "")
    marker = f" raised {exc_type}: "
    if exc_type and marker in text:
        text = text.split(marker, 1)[1]
    return text.rsplit("\n(line ", 1)[0]


def expect_value_error(call, fn: str, *, names: tuple[str, ...], what: str, hint: str) -> None:
    """``call()`` must raise ValueError whose message names one of ``names``."""
    try:
        call()
    except StudentCodeError as exc:
        exc_type = getattr(exc, "exc_type", None)
        if exc_type is None:           # stub, timeout, forbidden API...: report as is
            raise
        assert_true(exc_type == "ValueError",
                    N_("{fn} raised {exc_type} for {what}; expected ValueError.").format(
                        fn=fn, exc_type=exc_type, what=what), hint)
        detail = raised_detail(exc)
        assert_true(any(name in detail for name in names),
                    N_("{fn} raised ValueError for {what}, but the message does not name the argument "
                       "({names}).").format(fn=fn, what=what, names=" or ".join(repr(n) for n in names)), hint)
        return
    raise Feedback(N_("{fn} returned normally for {what}; expected a ValueError.").format(fn=fn, what=what), hint)


def call_valid(call, fn: str, hint: str):
    """Run ``call()`` on a configuration torch accepts; a ValueError from the student's
    own validity check then means their size formula is off, so say so with ``hint``."""
    try:
        return call()
    except StudentCodeError as exc:
        if getattr(exc, "exc_type", None) != "ValueError":
            raise
        raise Feedback(N_("{fn} raised ValueError for a valid configuration (torch accepts it and gives a positive "
                          "size): {detail}").format(fn=fn, detail=raised_detail(exc)[:200]), hint) from None


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """The torch ops of the test process itself (F.conv2d for the expected values, and
    the student's code when it runs in-process) use one thread, as the graded workers
    do (assignment.toml threads = 1): tiny convolutions gain nothing from threads, and
    on a busy machine thread start-up dominates."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---- batch norm (task 1.6) ----------------------------------------------------------------------
@dataclass
class BNCase:
    """One batch_norm2d configuration; ``tensors(dtype)`` builds x and the per-channel tensors.

    x has a per-channel offset and scale (so that the statistics differ between channels
    and the running statistics move), the running statistics are not at their initial
    0 / 1, and weight / bias are random when present."""
    seed: int
    shape: tuple
    affine: bool
    momentum: float
    eps: float

    def tensors(self, dtype=torch.float64, device="cpu", requires_grad=False):
        c = self.shape[1]
        offset = randn((1, c, 1, 1), self.seed + 1, scale=2.0)
        scale = 0.5 + randn((1, c, 1, 1), self.seed + 2).abs()
        x = (randn(self.shape, self.seed) * scale + offset).to(dtype=dtype, device=device)
        running_mean = randn((c,), self.seed + 3, dtype, device, scale=0.5)
        running_var = (0.5 + randn((c,), self.seed + 4).abs()).to(dtype=dtype, device=device)
        weight = randn((c,), self.seed + 5, dtype, device) if self.affine else None
        bias = randn((c,), self.seed + 6, dtype, device) if self.affine else None
        leaves = [x.requires_grad_(requires_grad)]
        for t in (weight, bias):
            leaves.append(t.requires_grad_(requires_grad) if t is not None else None)
        return leaves[0], running_mean, running_var, leaves[1], leaves[2]

    @property
    def kwargs(self) -> dict:
        return {"momentum": self.momentum, "eps": self.eps}


@st.composite
def bn_cases(draw, affine=True):
    """A valid (B, C, H, W) with more than one value per channel; momentum and eps drawn."""
    b, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if b * h * w < 2:
        b = 2
    has_affine = draw(st.booleans()) if affine is None else affine
    return BNCase(draw(seeds), (b, c, h, w), has_affine,
                  draw(st.sampled_from([0.1, 0.1, 0.3, 0.01, 1.0])), draw(st.sampled_from([1e-5, 1e-5, 1e-3, 0.1])))
