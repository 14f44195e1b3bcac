"""Public tests for a1_cnn.  Run them with

    python grade.py check a1_cnn a1_cnn.py
    python -m pytest test_public.py -k conv2d        # one function's checks

They are small examples; the hidden suite checks many more configurations,
gradients, forbidden APIs and speed (see README.md, "How you are graded").
"""
import pytest
import torch
import torch.nn.functional as F

from shared.compare import assert_close, assert_true
from shared.feedback import StudentCodeError
from shared.strategies import randn
from shared.i18n import N_

pytestmark = [pytest.mark.visibility("visible"),
              pytest.mark.filterwarnings("ignore:Using padding='same'")]


# ---- 1.1 conv_output_size ---------------------------------------------------------------------

@pytest.mark.task("1.1")
@pytest.mark.points(0)
@pytest.mark.parametrize("args, kwargs, expected", [
    pytest.param((32, 3), {}, 30, id="no-padding"),
    pytest.param((32, 3), dict(stride=2, padding=1), 16, id="stride-2"),
    pytest.param((28, 5), dict(padding=2), 28, id="padding-keeps-size"),
    pytest.param((9, 3), dict(dilation=2), 5, id="dilation"),
    pytest.param((10, 4), dict(stride=3), 3, id="floor"),
    pytest.param((7, 3), dict(stride=2, padding="same"), 4, id="same-stride-2"),
    pytest.param((7, 3), dict(padding="valid"), 5, id="valid"),
])
def test_conv_output_size_examples(student, args, kwargs, expected):
    """1.1 conv_output_size on hand-computed examples"""
    assert_close(student.conv_output_size(*args, **kwargs), expected, name=N_("conv_output_size result"),
                 hint=N_("floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1"))


@pytest.mark.task("1.1")
@pytest.mark.points(0)
def test_conv_output_size_tuples(student):
    """1.1 conv_output_size broadcasts ints against tuples"""
    actual = student.conv_output_size((32, 15), 3, padding=(1, 0))
    assert_true(isinstance(actual, tuple), N_("conv_output_size should return a tuple for tuple arguments."))
    assert_close(actual, (32, 13), name=N_("conv_output_size result"),
                 hint=N_("ints broadcast to every spatial dim; compute each dim separately"))


@pytest.mark.task("1.1")
@pytest.mark.points(0)
def test_conv_output_size_raises_value_error(student):
    """1.1 conv_output_size rejects stride=0 with a ValueError naming stride"""
    try:
        student.conv_output_size(8, 3, stride=0)
    except StudentCodeError as exc:
        message = str(exc).split(": ", 1)[-1].rsplit("\n(line ", 1)[0]     # your own message
        assert_true(getattr(exc, "exc_type", None) == "ValueError" and "stride" in message,
                    N_("expected a ValueError that names stride; got: {exc}").format(exc=exc))
        return
    assert_true(False, N_("conv_output_size(8, 3, stride=0) should raise ValueError."))


# ---- 1.2 conv_transpose_output_size -------------------------------------------------------------

@pytest.mark.task("1.2")
@pytest.mark.points(0)
def test_conv_transpose_output_size_matches_torch(student):
    """1.2 conv_transpose_output_size matches F.conv_transpose2d's output shape"""
    x, w = torch.zeros(1, 1, 16, 5), torch.zeros(1, 1, 4, 3)
    expected = tuple(F.conv_transpose2d(x, w, stride=(2, 1), padding=(1, 0), output_padding=(1, 0)).shape[2:])
    actual = student.conv_transpose_output_size((16, 5), (4, 3), stride=(2, 1), padding=(1, 0),
                                                output_padding=(1, 0))
    assert_close(actual, expected, name=N_("conv_transpose_output_size result"),
                 hint=N_("(size-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1"))
    assert_close(student.conv_transpose_output_size(16, 4, stride=2, padding=1), 32,
                 name=N_("conv_transpose_output_size result"))


# ---- 1.3 receptive_field ---------------------------------------------------------------------

@pytest.mark.task("1.3")
@pytest.mark.points(0)
@pytest.mark.parametrize("layers, expected", [
    pytest.param([(3, 1)], 3, id="one-layer"),
    pytest.param([(3, 1), (3, 1)], 5, id="two-3x3"),
    pytest.param([(3, 2), (3, 1)], 7, id="stride"),
    pytest.param([(3, 1, 1), (3, 1, 2)], 7, id="dilation"),
])
def test_receptive_field_examples(student, layers, expected):
    """1.3 receptive_field on hand-computed examples"""
    assert_close(student.receptive_field(layers), expected, name=N_("receptive field"),
                 hint=N_("each layer adds dilation*(kernel_size-1) times the product of the earlier strides"))


# ---- 1.4 conv2d ---------------------------------------------------------------------------------

@pytest.mark.task("1.4")
@pytest.mark.points(0)
def test_conv2d_tiny_example(student):
    """1.4 conv2d on the handout's 4x4 example"""
    x = torch.arange(16.).reshape(1, 1, 4, 4)
    w = torch.ones(1, 1, 2, 2)
    assert_close(student.conv2d(x, w, stride=2), torch.tensor([[[[10., 18.], [42., 50.]]]]),
                 name=N_("conv2d output"), hint=N_("sum of each 2x2 window, windows 2 pixels apart"))


CONFIGS = [
    pytest.param((2, 3, 8, 8), (4, 3, 3, 3), dict(), id="plain"),
    pytest.param((2, 3, 8, 9), (4, 3, 3, 2), dict(stride=2, padding=1), id="stride-padding"),
    pytest.param((1, 2, 9, 9), (3, 2, 3, 3), dict(dilation=2, padding=(2, 1)), id="dilation"),
    pytest.param((2, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1), id="groups"),
    pytest.param((2, 4, 7, 7), (4, 1, 3, 3), dict(groups=4), id="depthwise"),
    pytest.param((1, 3, 6, 7), (2, 3, 4, 3), dict(padding="same"), id="same-even-kernel"),
    pytest.param((1, 3, 6, 7), (2, 3, 3, 3), dict(padding="valid"), id="valid"),
]


@pytest.mark.task("1.4")
@pytest.mark.points(0)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONFIGS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_conv2d_matches_torch(student, x_shape, w_shape, kwargs, dtype):
    """1.4 conv2d matches F.conv2d on small inputs"""
    x, w, b = randn(x_shape, 0, dtype), randn(w_shape, 1, dtype), randn((w_shape[0],), 2, dtype)
    assert_close(student.conv2d(x, w, b, **kwargs), F.conv2d(x, w, b, **kwargs), name=N_("conv2d output"))


@pytest.mark.task("1.4")
@pytest.mark.points(0)
def test_conv2d_gradients(student):
    """1.4 conv2d is differentiable (gradients match F.conv2d's)"""
    ref = [randn((2, 4, 7, 7), 3, requires_grad=True), randn((6, 2, 3, 3), 4, requires_grad=True),
           randn((6,), 5, requires_grad=True)]
    mine = [t.detach().clone().requires_grad_() for t in ref]
    kwargs = dict(stride=2, padding=1, groups=2)
    F.conv2d(*ref, **kwargs).square().sum().backward()
    out = student.conv2d(*mine, **kwargs)
    assert_true(out.requires_grad, N_("conv2d's output does not require grad."))
    out.square().sum().backward()
    for name, a, e in zip(("x", "weight", "bias"), mine, ref):
        assert_true(a.grad is not None, N_("no gradient reached {name}.").format(name=name))
        assert_close(a.grad, e.grad, name=N_("gradient of {name}").format(name=name))


@pytest.mark.task("1.4")
@pytest.mark.points(0)
def test_conv2d_without_torch_convolution(student):
    """1.4 conv2d does not call F.conv2d / torch.conv2d / torch.convolution"""
    x, w = randn((1, 2, 6, 6), 6), randn((3, 2, 3, 3), 7)
    expected = F.conv2d(x, w, padding=1)
    with student.forbid("conv2d", "torch.nn.functional.conv2d", "torch.conv2d", "torch.convolution"):
        actual = student.conv2d(x, w, padding=1)
    assert_close(actual, expected, name=N_("conv2d output"))


# ---- 1.5 separable_conv_params ----------------------------------------------------------------

@pytest.mark.task("1.5")
@pytest.mark.points(0)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_separable_conv_params_matches_modules(student, bias):
    """1.5 separable_conv_params counts the parameters of real nn.Conv2d modules"""
    count = lambda *ms: sum(p.numel() for m in ms for p in m.parameters())      # noqa: E731
    nn = torch.nn
    expected = (count(nn.Conv2d(32, 64, 3, bias=bias)),
                count(nn.Conv2d(32, 32, 3, groups=32, bias=bias), nn.Conv2d(32, 64, 1, bias=bias)))
    assert_close(student.separable_conv_params(32, 64, 3, bias=bias), expected,
                 name=N_("(standard, depthwise_separable)"))


# ---- 1.6 batch_norm2d -------------------------------------------------------------------------

@pytest.mark.task("1.6")
@pytest.mark.points(0)
def test_batch_norm2d_docstring_example(student):
    """1.6 batch_norm2d on the docstring's 2x2 example (output and running statistics)"""
    x = torch.tensor([[[[1.]], [[2.]]], [[[3.]], [[6.]]]])
    rm, rv = torch.zeros(2), torch.ones(2)
    out = student.batch_norm2d(x, rm, rv)
    # channel 0 holds 1 and 3 (mean 2, biased var 1), channel 1 holds 2 and 6 (mean 4, biased var 4)
    var = torch.tensor([1.0, 4.0])
    expected = torch.tensor([[-1.0, -2.0], [1.0, 2.0]]) / torch.sqrt(var + 1e-5)
    assert_close(out[:, :, 0, 0], expected, name=N_("batch_norm2d output"),
                 hint=N_("(x - mean) / sqrt(var + eps) per channel, biased variance"))
    assert_close(rm, torch.tensor([0.2, 0.4]), name="running_mean",
                 hint=N_("update it in place: (1 - momentum) * running_mean + momentum * batch mean"))
    assert_close(rv, torch.tensor([1.1, 1.7]), name="running_var",
                 hint=N_("update it in place with the UNBIASED batch variance, var * n / (n - 1)"))


@pytest.mark.task("1.6")
@pytest.mark.points(0)
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_batch_norm2d_matches_torch(student, training, dtype):
    """1.6 batch_norm2d matches F.batch_norm (output and running statistics)"""
    x = randn((4, 3, 5, 6), 10, dtype) * 2 + 1
    w, b = randn((3,), 11, dtype), randn((3,), 12, dtype)
    rm, rv = randn((3,), 13, dtype) * 0.1, randn((3,), 14, dtype).abs() + 0.5
    rm_mine, rv_mine = rm.clone(), rv.clone()
    expected = F.batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5)
    actual = student.batch_norm2d(x, rm_mine, rv_mine, w, b, training, 0.1, 1e-5)
    assert_close(actual, expected, name=N_("batch_norm2d output"))
    assert_close(rm_mine, rm, name=N_("running_mean after the call"))
    assert_close(rv_mine, rv, name=N_("running_var after the call"))


@pytest.mark.task("1.6")
@pytest.mark.points(0)
def test_batch_norm2d_gradients(student):
    """1.6 batch_norm2d is differentiable (gradients match F.batch_norm's)"""
    ref = [randn((3, 4, 5, 5), 15, requires_grad=True), randn((4,), 16, requires_grad=True),
           randn((4,), 17, requires_grad=True)]
    mine = [t.detach().clone().requires_grad_() for t in ref]
    F.batch_norm(ref[0], None, None, ref[1], ref[2], True).square().sum().backward()
    out = student.batch_norm2d(mine[0], None, None, mine[1], mine[2], True)
    assert_true(out.requires_grad, N_("batch_norm2d's output does not require grad."))
    out.square().sum().backward()
    for name, a, e in zip(("x", "weight", "bias"), mine, ref):
        assert_true(a.grad is not None, N_("no gradient reached {name}.").format(name=name))
        assert_close(a.grad, e.grad, name=N_("gradient of {name}").format(name=name))


# ---- 1.7 ResidualBlock ------------------------------------------------------------------------

def _reference_block_state(in_channels, out_channels, stride, seed):
    """The state dict ResNet's basic block has, with random values (built from torch modules here)."""
    nn = torch.nn
    modules = {"conv1": nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
               "bn1": nn.BatchNorm2d(out_channels),
               "conv2": nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
               "bn2": nn.BatchNorm2d(out_channels)}
    if stride != 1 or in_channels != out_channels:
        modules["downsample"] = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                              nn.BatchNorm2d(out_channels))
    block = nn.ModuleDict(modules).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in block.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            t.copy_(torch.rand(t.shape, generator=g, dtype=torch.float64) * 0.5 + (0.5 if "var" in name else 0.0))
    return block


def _forward(block, x):
    """ResNet's basic block, eval mode: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""
    block.eval()
    identity = block["downsample"](x) if "downsample" in block else x
    out = F.relu(block["bn1"](block["conv1"](x)))
    return F.relu(block["bn2"](block["conv2"](out)) + identity)


@pytest.mark.task("1.7")
@pytest.mark.points(0)
@pytest.mark.parametrize("config", [(4, 4, 1), (4, 8, 2), (4, 8, 1)], ids=["identity", "channels-and-stride",
                                                                         "channels"])
def test_residual_block_with_reference_shaped_weights(student, config):
    """1.7 ResidualBlock loads a basic block's state dict (strict) and computes its output (eval mode)"""
    ours = _reference_block_state(*config, seed=sum(config))
    theirs = student.ResidualBlock(*config)
    theirs.to(torch.float64)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    theirs.eval()
    x = randn((2, config[0], 8, 7), 18)
    with torch.no_grad():
        expected = _forward(ours, x)
    assert_close(theirs(x), expected, name=N_("ResidualBlock output"),
                 hint=N_("relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the ReLU comes after the addition"))
