"""The a1_cnn reference checked against torch, and the stub checked to be a stub.

Independent of the hidden suite: expected values come straight from torch
(F.conv2d and its gradients, output shapes of real convolutions, parameters of real
nn.Conv2d modules, F.batch_norm with its running statistics, and ResNet's basic block
written out with F.conv2d / F.batch_norm).
"""
import itertools
import random
import warnings

import pytest
import torch
import torch.nn.functional as F

from autograder import ROOT
from shared.adapter import load_module

REFERENCE = load_module(ROOT / "solutions" / "a1_cnn" / "a1_cnn.py", "_a1_reference_under_test")
STUB = load_module(ROOT / "assignments" / "a1_cnn" / "a1_cnn.py", "_a1_stub_under_test")
FUNCTIONS = ["conv_output_size", "conv_transpose_output_size", "receptive_field", "conv2d",
             "separable_conv_params", "batch_norm2d"]
TASKS = {"conv_output_size": "1.1", "conv_transpose_output_size": "1.2", "receptive_field": "1.3",
         "conv2d": "1.4", "separable_conv_params": "1.5", "batch_norm2d": "1.6", "ResidualBlock": "1.7"}

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny convolutions: thread start-up would cost more than the work (and the
    machine running the test suite is shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _configs():
    """A grid of conv2d configurations (valid ones only)."""
    grid = itertools.product(
        [(1, 4, 7, 8), (2, 6, 9, 6)],                     # x shape
        [1, 2, 3],                                         # groups (6 channels: 1, 2, 3 divide; 4 ch: skip 3)
        [(1, 1), (2, 3), (3, 3), (4, 2)],                  # kernel
        [1, 2, (2, 1)],                                    # stride
        [0, 1, (2, 0), "same", "valid"],                   # padding
        [1, 2, (1, 3)],                                    # dilation
        [False, True],                                     # bias
    )
    for x_shape, g, k, s, p, d, b in grid:
        c = x_shape[1]
        if c % g or (p == "same" and s != 1):
            continue
        yield x_shape, (2 * g, c // g, *k), dict(stride=s, padding=p, dilation=d, groups=g), b


# a fixed random third of the grid keeps this file fast and still covers every option
_ALL = list(_configs())
CONFIGS = [_ALL[i] for i in sorted(random.Random(0).sample(range(len(_ALL)), len(_ALL) // 3))]


def _valid(config) -> bool:
    x_shape, w_shape, kwargs, _ = config
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.conv2d(torch.empty(x_shape, device="meta"), torch.empty(w_shape, device="meta"), **kwargs)
    except RuntimeError:
        return False
    return True


VALID = [c for c in CONFIGS if _valid(c)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_reference_conv2d_matches_torch_on_a_grid(dtype):
    gen = torch.Generator().manual_seed(0)
    checked = 0
    for x_shape, w_shape, kwargs, has_bias in CONFIGS:
        x = torch.randn(x_shape, generator=gen, dtype=dtype)
        w = torch.randn(w_shape, generator=gen, dtype=dtype)
        b = torch.randn(w_shape[0], generator=gen, dtype=dtype) if has_bias else None
        try:
            expected = F.conv2d(x, w, b, **kwargs)
        except RuntimeError:           # input smaller than the dilated kernel
            with pytest.raises(ValueError):
                REFERENCE.conv2d(x, w, b, **kwargs)
            continue
        actual = REFERENCE.conv2d(x, w, b, **kwargs)
        assert actual.dtype == dtype and actual.shape == expected.shape, kwargs
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(actual, expected, **tol, msg=lambda m: f"{kwargs}: {m}")
        checked += 1
    assert checked > 100 and checked < len(CONFIGS)       # both paths exercised


@pytest.mark.parametrize("index", range(0, len(VALID), 11))
def test_reference_conv2d_gradients_match_torch(index):
    x_shape, w_shape, kwargs, _ = VALID[index]
    gen = torch.Generator().manual_seed(index)
    leaves = [torch.randn(s, generator=gen, dtype=torch.float64) for s in (x_shape, w_shape, (w_shape[0],))]
    ref = [t.clone().requires_grad_() for t in leaves]
    mine = [t.clone().requires_grad_() for t in leaves]
    expected = F.conv2d(*ref, **kwargs)
    upstream = torch.randn(expected.shape, generator=gen, dtype=torch.float64)
    expected.backward(upstream)
    REFERENCE.conv2d(*mine, **kwargs).backward(upstream)
    for a, e in zip(mine, ref):
        torch.testing.assert_close(a.grad, e.grad, rtol=1e-10, atol=1e-12)


def test_reference_conv2d_unbatched_and_errors():
    x, w = torch.randn(3, 6, 6, dtype=torch.float64), torch.randn(4, 3, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(REFERENCE.conv2d(x, w, padding=1), F.conv2d(x, w, padding=1))
    with pytest.raises(ValueError, match="same"):
        REFERENCE.conv2d(x[None], w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding"):
        REFERENCE.conv2d(x[None], w, padding="full")


def test_reference_conv2d_uses_no_torch_convolution(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("torch convolution called")
    for owner, name in [(torch.nn.functional, "conv2d"), (torch, "conv2d"), (torch, "convolution"),
                        (torch, "_convolution"), (torch.nn.functional, "conv1d"), (torch.nn.functional, "conv3d")]:
        monkeypatch.setattr(owner, name, boom)
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
    assert REFERENCE.conv2d(x, w, padding="same").shape == (1, 3, 5, 5)


def _torch_shape(size, kernel, **kwargs):
    nd = len(size)
    conv = getattr(F, f"conv{nd}d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = conv(torch.empty(1, 1, *size, device="meta"), torch.empty(1, 1, *kernel, device="meta"), **kwargs)
    return tuple(out.shape[2:])


def test_reference_conv_output_size_matches_torch_shapes():
    for size, k, s, p, d in itertools.product(range(1, 14), range(1, 6), range(1, 4), range(0, 3), range(1, 3)):
        try:
            expected = _torch_shape((size,), (k,), stride=s, padding=p, dilation=d)[0]
        except RuntimeError:
            with pytest.raises(ValueError):
                REFERENCE.conv_output_size(size, k, stride=s, padding=p, dilation=d)
            continue
        assert REFERENCE.conv_output_size(size, k, stride=s, padding=p, dilation=d) == expected
        if s == 1:
            assert REFERENCE.conv_output_size(size, k, padding="same", dilation=d) == \
                _torch_shape((size,), (k,), padding="same", dilation=d)[0]
    assert REFERENCE.conv_output_size(7, 3, stride=2, padding="same") == 4      # ceil(7 / 2)
    assert REFERENCE.conv_output_size((9, 8, 7), 3, stride=(1, 2, 3), padding=1) == \
        _torch_shape((9, 8, 7), (3, 3, 3), stride=(1, 2, 3), padding=1)
    assert isinstance(REFERENCE.conv_output_size(9, 3), int)
    for kwargs, word in [(dict(kernel_size=0), "kernel_size"), (dict(kernel_size=3, stride=0), "stride"),
                         (dict(kernel_size=3, dilation=0), "dilation"), (dict(kernel_size=(3, -1)), "kernel_size")]:
        with pytest.raises(ValueError, match=word):
            REFERENCE.conv_output_size((8, 8) if isinstance(kwargs["kernel_size"], tuple) else 8, **kwargs)


def test_reference_conv_transpose_output_size_matches_torch_shapes():
    for size, k, s, p, d in itertools.product(range(1, 8), range(1, 5), range(1, 4), range(0, 3), range(1, 3)):
        for op in range(max(s, d)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    out = F.conv_transpose1d(torch.empty(1, 1, size, device="meta"),
                                             torch.empty(1, 1, k, device="meta"), stride=s, padding=p,
                                             output_padding=op, dilation=d)
                    expected = out.shape[-1] if out.shape[-1] > 0 else None
                except RuntimeError:
                    expected = None
            if expected is None:
                with pytest.raises(ValueError):
                    REFERENCE.conv_transpose_output_size(size, k, s, p, op, d)
            else:
                assert REFERENCE.conv_transpose_output_size(size, k, s, p, op, d) == expected


def _measured_rf(layers):
    x = torch.ones(1, 1, 4096, dtype=torch.float64, requires_grad=True)
    y = x
    for layer in layers:
        k, s, d = (*layer, 1)[:3]
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, 0].backward()
    nz = torch.nonzero(x.grad[0, 0]).flatten()
    return int(nz[-1] - nz[0] + 1)


@pytest.mark.parametrize("layers", [
    [(3, 1)], [(3, 1)] * 3, [(7, 2), (3, 2), (3, 1)], [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1)],
    [(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)], [(3, 2, 2), (1, 3), (5, 1, 3)], [],
])
def test_reference_receptive_field_matches_measurement(layers):
    expected = _measured_rf(layers) if layers else 1
    assert REFERENCE.receptive_field(layers) == expected


@pytest.mark.parametrize("bias", [True, False])
def test_reference_separable_params_match_modules(bias):
    count = lambda *ms: sum(p.numel() for m in ms for p in m.parameters())      # noqa: E731
    for c_in, c_out, k in [(1, 1, 1), (3, 16, 3), (32, 64, 3), (17, 5, (3, 5)), (64, 128, 7)]:
        nn = torch.nn
        expected = (count(nn.Conv2d(c_in, c_out, k, bias=bias, device="meta")),
                    count(nn.Conv2d(c_in, c_in, k, groups=c_in, bias=bias, device="meta"),
                          nn.Conv2d(c_in, c_out, 1, bias=bias, device="meta")))
        assert REFERENCE.separable_conv_params(c_in, c_out, k, bias=bias) == expected


def test_stub_is_the_example_stub_and_has_no_solution_code():
    stub_text = (ROOT / "assignments" / "a1_cnn" / "a1_cnn.py").read_text()
    assert (ROOT / "examples" / "submissions" / "a1_cnn" / "stub.py").read_text() == stub_text
    for marker in ("unfold(", "einsum(", "as_strided(", "matmul("):
        assert marker not in stub_text.replace("`", "")


# ---- 1.6 batch_norm2d -------------------------------------------------------------------------

def _bn_inputs(shape, seed, dtype, affine=True):
    gen = torch.Generator().manual_seed(seed)
    c = shape[1]
    x = (torch.randn(shape, generator=gen, dtype=torch.float64) * 3 + torch.randn(1, c, 1, 1, generator=gen,
                                                                                  dtype=torch.float64))
    rm = torch.randn(c, generator=gen, dtype=torch.float64)
    rv = torch.rand(c, generator=gen, dtype=torch.float64) + 0.5
    w = torch.randn(c, generator=gen, dtype=torch.float64) if affine else None
    b = torch.randn(c, generator=gen, dtype=torch.float64) if affine else None
    cast = (lambda t: None if t is None else t.to(dtype))
    return cast(x), cast(rm), cast(rv), cast(w), cast(b)


BN_GRID = list(itertools.product(
    [(2, 3, 4, 5), (1, 4, 1, 2), (5, 1, 3, 3), (3, 2, 1, 1)],     # shapes, down to n = 2 values per channel
    [True, False],                                               # training
    [True, False],                                               # affine
    [(0.1, 1e-5), (0.3, 1e-3), (1.0, 0.1)],                      # momentum, eps
))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_reference_batch_norm2d_matches_torch_on_a_grid(dtype):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)
    for i, (shape, training, affine, (momentum, eps)) in enumerate(BN_GRID):
        x, rm, rv, w, b = _bn_inputs(shape, i, dtype, affine)
        rm_ref, rv_ref = rm.clone(), rv.clone()
        expected = F.batch_norm(x, rm, rv, w, b, training, momentum, eps)
        actual = REFERENCE.batch_norm2d(x, rm_ref, rv_ref, w, b, training, momentum, eps)
        assert actual.dtype == dtype and actual.shape == x.shape
        torch.testing.assert_close(actual, expected, **tol)
        torch.testing.assert_close(rm_ref, rm, **tol)          # running statistics, updated in place
        torch.testing.assert_close(rv_ref, rv, **tol)


def test_reference_batch_norm2d_running_statistics_by_hand():
    """The update rule written out: (1 - m) * running + m * batch, unbiased variance."""
    x = torch.tensor([[[[1.0]], [[2.0]]], [[[3.0]], [[6.0]]]], dtype=torch.float64)
    rm, rv = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    out = REFERENCE.batch_norm2d(x, rm, rv, eps=0.0)
    torch.testing.assert_close(out[:, :, 0, 0], torch.tensor([[-1.0, -1.0], [1.0, 1.0]], dtype=torch.float64))
    torch.testing.assert_close(rm, torch.tensor([0.2, 0.4], dtype=torch.float64))
    torch.testing.assert_close(rv, torch.tensor([1.1, 1.7], dtype=torch.float64))


@pytest.mark.parametrize("training", [True, False])
def test_reference_batch_norm2d_gradients_and_none_statistics(training):
    x, rm, rv, w, b = _bn_inputs((3, 4, 3, 2), 7, torch.float64)
    ref = [t.clone().requires_grad_() for t in (x, w, b)]
    mine = [t.clone().requires_grad_() for t in (x, w, b)]
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    F.batch_norm(ref[0], rm.clone(), rv.clone(), ref[1], ref[2], training).backward(upstream)
    REFERENCE.batch_norm2d(mine[0], rm.clone(), rv.clone(), mine[1], mine[2], training).backward(upstream)
    for a, e in zip(mine, ref):
        torch.testing.assert_close(a.grad, e.grad, rtol=1e-10, atol=1e-12)
    if training:       # no running statistics at all, as nn.BatchNorm2d(track_running_stats=False) passes
        torch.testing.assert_close(REFERENCE.batch_norm2d(x, None, None), F.batch_norm(x, None, None, training=True))
    else:
        with pytest.raises(ValueError, match="running_mean"):
            REFERENCE.batch_norm2d(x, None, None, training=False)


def test_reference_batch_norm2d_dispatches_no_forbidden_op():
    """The forbidden_ops of task 1.6 are what torch's batch norms dispatch, and the reference none of them."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from autograder import registry

    class Ops(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.seen.add(f"aten::{func.overloadpacket.__name__}")
            return func(*args, **(kwargs or {}))

    forbidden = set(registry.get("a1_cnn").task("1.6").forbidden_ops)
    x, rm, rv, w, b = _bn_inputs((2, 3, 4, 4), 9, torch.float32)
    calls = {
        "F.batch_norm": lambda: F.batch_norm(x, rm.clone(), rv.clone(), w, b, True),
        "F.batch_norm eval": lambda: F.batch_norm(x, rm, rv, w, b, False),
        "torch.batch_norm": lambda: torch.batch_norm(x, w, b, rm.clone(), rv.clone(), True, 0.1, 1e-5, False),
        "nn.BatchNorm2d": lambda: torch.nn.BatchNorm2d(3)(x),
        "F.instance_norm": lambda: F.instance_norm(x),
    }
    for name, call in calls.items():
        with Ops() as ops:
            call()
        assert ops.seen & forbidden, f"{name} dispatched {sorted(ops.seen)}, none of them forbidden"
    xr = x.clone().requires_grad_()
    with Ops() as ops:
        REFERENCE.batch_norm2d(xr, rm.clone(), rv.clone(), w, b, True).sum().backward()
        REFERENCE.batch_norm2d(x, rm, rv, w, b, False)
    assert not ops.seen & forbidden, sorted(ops.seen & forbidden)


# ---- 1.7 ResidualBlock ----------------------------------------------------------------------

def _basic_block_by_hand(state: dict, x, stride: int, training: bool):
    """ResNet's basic block written out with F.conv2d and F.batch_norm on a state dict (clones
    of the running statistics, which F.batch_norm updates in training mode)."""
    def bn(prefix, t):
        return F.batch_norm(t, state[f"{prefix}.running_mean"].clone(), state[f"{prefix}.running_var"].clone(),
                            state[f"{prefix}.weight"], state[f"{prefix}.bias"], training, 0.1, 1e-5)
    out = F.relu(bn("bn1", F.conv2d(x, state["conv1.weight"], stride=stride, padding=1)))
    out = bn("bn2", F.conv2d(out, state["conv2.weight"], padding=1))
    shortcut = bn("downsample.1", F.conv2d(x, state["downsample.0.weight"], stride=stride)) \
        if "downsample.0.weight" in state else x
    return F.relu(out + shortcut)


BN_KEYS = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


@pytest.mark.parametrize("config", [(4, 4, 1), (4, 6, 1), (4, 4, 2), (3, 8, 2)])
@pytest.mark.parametrize("training", [False, True])
def test_reference_residual_block_is_resnets_basic_block(config, training):
    in_channels, out_channels, stride = config
    torch.manual_seed(sum(config))
    block = REFERENCE.ResidualBlock(in_channels, out_channels, stride).double()
    with torch.no_grad():                          # non-trivial batch-norm parameters and statistics
        for name, t in block.state_dict().items():
            if t.is_floating_point():
                t.add_(torch.rand(t.shape, dtype=torch.float64) * 0.5)
    shortcut = stride != 1 or in_channels != out_channels
    expected_keys = (["conv1.weight"] + [f"bn1.{k}" for k in BN_KEYS] + ["conv2.weight"] + [f"bn2.{k}" for k in BN_KEYS]
                     + (["downsample.0.weight"] + [f"downsample.1.{k}" for k in BN_KEYS] if shortcut else []))
    state = {k: v.clone() for k, v in block.state_dict().items()}
    assert list(state) == expected_keys
    assert state["conv1.weight"].shape == (out_channels, in_channels, 3, 3)
    assert state["conv2.weight"].shape == (out_channels, out_channels, 3, 3)
    if shortcut:
        assert state["downsample.0.weight"].shape == (out_channels, in_channels, 1, 1)
    assert not any(isinstance(m, torch.nn.Conv2d) and m.bias is not None for m in block.modules())
    x = torch.randn(2, in_channels, 9, 8, dtype=torch.float64)
    block.train(training)
    expected = _basic_block_by_hand(state, x, stride, training)
    actual = block(x)
    assert actual.shape == (2, out_channels, -(-9 // stride), -(-8 // stride))
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-12)
    assert (actual >= 0).all()


