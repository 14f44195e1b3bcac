"""The a1_cnn reference checked against torch, and the stub checked to be a stub.

Independent of the hidden suite: expected values come straight from torch
(F.conv2d and its gradients, output shapes of real convolutions, parameters of real
nn.Conv2d modules).
"""
import inspect
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
             "separable_conv_params"]
TASKS = {"conv_output_size": "1.1", "conv_transpose_output_size": "1.2", "receptive_field": "1.3",
         "conv2d": "1.4", "separable_conv_params": "1.5"}

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


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stub_functions_raise_not_implemented(name):
    fn = getattr(STUB, name)
    assert inspect.signature(fn) == inspect.signature(getattr(REFERENCE, name))
    assert fn.__doc__ and len(fn.__doc__.strip().splitlines()) > 5
    args = {
        "conv_output_size": (8, 3), "conv_transpose_output_size": (8, 3), "receptive_field": ([(3, 1)],),
        "conv2d": (torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3)), "separable_conv_params": (3, 4, 3),
    }[name]
    with pytest.raises(NotImplementedError) as info:
        fn(*args)
    message = str(info.value)
    assert message.startswith("Task")
    assert message == f"Task {TASKS[name]}: {name}"


def test_stub_is_the_example_stub_and_has_no_solution_code():
    stub_text = (ROOT / "assignments" / "a1_cnn" / "a1_cnn.py").read_text()
    assert (ROOT / "examples" / "submissions" / "a1_cnn" / "stub.py").read_text() == stub_text
    for marker in ("unfold(", "einsum(", "as_strided(", "matmul("):
        assert marker not in stub_text.replace("`", "")
