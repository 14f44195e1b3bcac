"""Hidden tests for ResidualBlock (task 1.7).

The block is judged only by what the grader can verify from the outside: the reference's
state dict (random weights, non-trivial batch-norm affine parameters and running
statistics) must load into the student's block with strict=True, and then the student's
block must give the reference's outputs in eval mode and in train mode, the reference's
running statistics after a training step, and the reference's input gradient.  The
student's object is never asked to describe itself for the verdict (its state_dict keys
are only read to word the feedback when the strict load fails).
"""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a1_cnn.strategies import single_thread  # noqa: F401  (autouse fixture)
from shared.compare import assert_close, assert_true
from shared.feedback import Feedback, StudentCodeError
from shared.strategies import generator, randn, seeds
from shared.i18n import N_


STRUCTURE_HINT = (N_("ResidualBlock submodules: conv1 = Conv2d(in, out, 3, stride, padding=1, bias=False), bn1 = "
                     "BatchNorm2d(out), conv2 = Conv2d(out, out, 3, 1, padding=1, bias=False), bn2 = "
                     "BatchNorm2d(out), and downsample = Sequential(Conv2d(in, out, 1, stride, bias=False), "
                     "BatchNorm2d(out)) only when stride != 1 or in_channels != out_channels"))
DOWNSAMPLE_NEEDED = (N_("the shortcut needs a projection when the shape changes: downsample = "
                        "nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), "
                        "nn.BatchNorm2d(out_channels)) whenever stride != 1 or in_channels != out_channels"))
DOWNSAMPLE_UNWANTED = (N_("when stride == 1 and in_channels == out_channels the shortcut is the identity: the "
                          "block has no downsample submodule (self.downsample = None)"))
BIAS_HINT = N_("the block's convolutions have bias=False: the batch norm right after each one has its own shift (beta)")
ORDER_HINT = (N_("out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): the ReLU comes after the addition, "
                 "the stride belongs to conv1 (and to the 1x1 downsample convolution), conv2 always has stride 1"))
RELU_AFTER_ADD_HINT = (N_("the final ReLU comes after the addition, out = relu(F(x) + shortcut), so the block's "
                          "output is never negative"))
TRAIN_HINT = (N_("in train mode the batch norms normalise with the batch statistics and update their running "
                 "statistics (nn.BatchNorm2d(out_channels) with its defaults, eps=1e-5 and momentum=0.1): ") + ORDER_HINT)
GRAD_HINT = N_("the block must stay differentiable: no .detach(), .item() or torch.no_grad() in forward; ") + ORDER_HINT

# (in_channels, out_channels, stride): identity shortcut, channel change, stride, both
CONFIGS = [
    pytest.param((6, 6, 1), id="identity"),
    pytest.param((4, 6, 1), id="channels"),
    pytest.param((6, 6, 2), id="stride"),
    pytest.param((3, 8, 2), id="channels-and-stride"),
]
configs = st.tuples(st.integers(2, 6), st.integers(2, 6), st.sampled_from([1, 2]))
configs = st.one_of(configs, configs.map(lambda c: (c[0], c[0], c[2])))      # often the identity shortcut


def reference_block(reference, in_channels, out_channels, stride, seed, dtype=torch.float64):
    """The reference block with random weights, batch-norm affine parameters and running statistics."""
    block = reference.ResidualBlock(in_channels, out_channels, stride).to(dtype)
    g = generator(seed)
    with torch.no_grad():
        for name, t in block.state_dict().items():
            if name.endswith("num_batches_tracked"):
                t.fill_(3)
                continue
            fresh = torch.randn(t.shape, generator=g, dtype=torch.float64)
            if name.endswith("running_var"):
                fresh = 0.5 + fresh.abs()
            elif name.endswith("running_mean") or name.endswith("bias"):
                fresh = 0.3 * fresh
            elif t.dim() == 4:                                  # conv weights: unit-variance outputs
                fresh = fresh / (t[0].numel() ** 0.5)
            else:                                               # batch-norm weight (gamma)
                fresh = 1.0 + 0.2 * fresh
            t.copy_(fresh.to(dtype))
    return block


def _diagnose(theirs, ours_state: dict) -> str:
    """Which concept a failed strict load points at, from the keys of the two state dicts
    (only to word the feedback)."""
    try:
        their_keys = set(theirs.state_dict().keys())
    except Exception:
        return STRUCTURE_HINT
    our_keys = set(ours_state)
    missing, unexpected = our_keys - their_keys, their_keys - our_keys
    if any(k.startswith("downsample") for k in missing):
        return DOWNSAMPLE_NEEDED
    if any(k.startswith("downsample") for k in unexpected):
        return DOWNSAMPLE_UNWANTED
    if any(k.endswith(".bias") and "bn" not in k and not k.startswith("downsample.1") for k in unexpected):
        return BIAS_HINT
    return STRUCTURE_HINT


def student_block(student, reference, config, seed, dtype=torch.float64):
    """(theirs, ours): the student's block with the reference's state dict loaded strictly."""
    in_channels, out_channels, stride = config
    ours = reference_block(reference, in_channels, out_channels, stride, seed, dtype)
    theirs = student.ResidualBlock(in_channels, out_channels, stride)
    theirs.to(dtype)
    state = {k: v.clone() for k, v in ours.state_dict().items()}
    try:
        theirs.load_state_dict(state, strict=True)
    except StudentCodeError as exc:                       # isolated worker: the module's error, relayed
        if getattr(exc, "exc_type", None) is None:        # stub, timeout, crash: report as is
            raise
        _load_failed(theirs, state, config, str(getattr(exc, "detail", exc)))
    except Feedback:
        raise
    except Exception as exc:                              # in-process: the module's own error
        _load_failed(theirs, state, config, str(exc))
    return theirs, ours


def _load_failed(theirs, state, config, detail: str):
    lines = " ".join(line.strip() for line in detail.splitlines()[:4])[:400]
    raise Feedback(N_("the reference's state dict does not load into your ResidualBlock{config} (in_channels, "
                      "out_channels, stride) with strict=True: {lines}").format(config=config, lines=lines),
                   _diagnose(theirs, state)) from None


def _inputs(config, seed, batch=2, size=(7, 6), dtype=torch.float64, requires_grad=False):
    return randn((batch, config[0], *size), seed, dtype, requires_grad=requires_grad)


@pytest.mark.task("1.7")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "architecture")
@pytest.mark.parametrize("config", CONFIGS)
def test_residual_block_loads_reference_state_dict(student, reference, config):
    """1.7 ResidualBlock has the submodules conv1, bn1, conv2, bn2 (and downsample when the shape changes)"""
    student_block(student, reference, config, seed=1)


@pytest.mark.task("1.7")
@pytest.mark.points(3)
@pytest.mark.tags("correctness")
@settings(max_examples=8)
@given(config=configs, seed=seeds, batch=st.integers(1, 3), size=st.tuples(st.integers(3, 9), st.integers(3, 9)))
def test_residual_block_eval_output(student, reference, config, seed, batch, size):
    """1.7 ResidualBlock in eval mode gives the reference's output (reference weights loaded)"""
    theirs, ours = student_block(student, reference, config, seed)
    theirs.eval()
    ours.eval()
    x = _inputs(config, seed + 1, batch, size)
    with torch.no_grad():
        expected = ours(x)
    actual = theirs(x)
    if isinstance(actual, torch.Tensor) and actual.shape == expected.shape:
        assert_true(bool((actual >= 0).all()), N_("your ResidualBlock's output has negative values."),
                    RELU_AFTER_ADD_HINT)
    assert_close(actual, expected, name=N_("ResidualBlock output (eval mode)"), hint=ORDER_HINT)


@pytest.mark.task("1.7")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "batch-norm")
@settings(max_examples=6)
@given(config=configs, seed=seeds, batch=st.integers(2, 3))
def test_residual_block_train_mode(student, reference, config, seed, batch):
    """1.7 ResidualBlock in train mode gives the reference's output and running statistics"""
    theirs, ours = student_block(student, reference, config, seed)
    theirs.train()
    ours.train()
    x = _inputs(config, seed + 2, batch)
    with torch.no_grad():
        expected = ours(x)
    assert_close(theirs(x), expected, name=N_("ResidualBlock output (train mode)"), hint=TRAIN_HINT)
    their_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        if "running" in name:
            assert_close(their_state.get(name), value, name=N_("{name} after one training step").format(
                name=name), hint=TRAIN_HINT)


@pytest.mark.task("1.7")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "autograd")
@settings(max_examples=6)
@given(config=configs, seed=seeds, train=st.booleans())
def test_residual_block_input_gradient(student, reference, config, seed, train):
    """1.7 ResidualBlock's gradient with respect to its input matches the reference's"""
    theirs, ours = student_block(student, reference, config, seed)
    (theirs.train() if train else theirs.eval())
    (ours.train() if train else ours.eval())
    x_ref = _inputs(config, seed + 3, requires_grad=True)
    x_mine = _inputs(config, seed + 3, requires_grad=True)
    expected = ours(x_ref)
    upstream = randn(expected.shape, seed + 4)
    expected.backward(upstream)
    actual = theirs(x_mine)
    assert_close(actual.detach(), expected.detach(), name=N_("ResidualBlock output"),
                 hint=TRAIN_HINT if train else ORDER_HINT)
    assert_true(actual.requires_grad, N_("your ResidualBlock's output does not require grad although x does."), GRAD_HINT)
    actual.backward(upstream)
    assert_true(x_mine.grad is not None, N_("no gradient reached the block's input."), GRAD_HINT)
    assert_close(x_mine.grad, x_ref.grad, name=N_("gradient with respect to the input"), hint=GRAD_HINT)


@pytest.mark.task("1.7")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "dtype")
def test_residual_block_float32(student, reference):
    """1.7 ResidualBlock works in float32 (the default dtype of nn modules)"""
    config = (4, 8, 2)
    theirs, ours = student_block(student, reference, config, seed=5, dtype=torch.float32)
    theirs.eval()
    ours.eval()
    x = _inputs(config, 6, 2, (8, 8), dtype=torch.float32)
    with torch.no_grad():
        expected = ours(x)
    assert_close(theirs(x), expected, name=N_("ResidualBlock output (float32)"), hint=ORDER_HINT)
