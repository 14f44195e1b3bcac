"""Hidden tests for the convolution arithmetic of a1_cnn (tasks 1.1, 1.2, 1.3, 1.5).

Expected sizes are the shapes torch itself computes (convolutions on "meta" tensors,
which only infer shapes), parameter counts come from real nn.Conv2d modules, and the
receptive field is measured with autograd through a stack of 1-D convolutions.
"""
import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograder.suites.a1_cnn.strategies import (brute_force_receptive_field, call_valid, expect_value_error,
                                                 torch_conv_output_shape,
                                                 single_thread,  # noqa: F401  (autouse fixture)
                                                 torch_conv_transpose_output_shape)
from shared.compare import assert_close, assert_true
from shared.i18n import N_


FORMULA_HINT = (N_("output size formula (per spatial dim): floor((size + 2*padding - dilation*(kernel_size-1) - 1) "
                   "/ stride) + 1; use floor (integer) division before adding 1"))
BROADCAST_HINT = (N_("each argument is an int or a tuple with one entry per spatial dim; ints broadcast to every "
                     "dim, and the result is a tuple as soon as any argument is a tuple"))
SAME_HINT = (N_("'valid' means padding 0; 'same' gives ceil(size / stride) output pixels per dim (the input size "
                "itself when stride is 1)"))
TRANSPOSE_HINT = (N_("transposed convolution output size: (size-1)*stride - 2*padding + dilation*(kernel_size-1) + "
                     "output_padding + 1; it inverts the conv output size formula"))
RF_HINT = (N_("receptive field (수용 영역): each layer adds dilation*(kernel_size-1) times the jump, the product of "
              "the strides of all earlier layers (a stride spreads later layers' taps apart)"))
SEPARABLE_HINT = (N_("count the depthwise conv (groups = in_channels: one kernel per input channel) and the "
                     "pointwise 1x1 conv separately, each with its own bias when bias=True"))


# ---- 1.1 conv_output_size --------------------------------------------------------------------

@st.composite
def valid_1d(draw, max_size=40):
    """kernel, stride, padding, dilation and a size that leaves at least one output pixel."""
    k, s, p, d = draw(st.integers(1, 7)), draw(st.integers(1, 4)), draw(st.integers(0, 3)), draw(st.integers(1, 3))
    size = max(1, d * (k - 1) + 1 - 2 * p + draw(st.integers(0, max_size)))
    return size, k, s, p, d


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "formula")
@given(case=valid_1d())
def test_conv_output_size_int(student, case):
    """1.1 conv_output_size matches torch's output shape (int arguments)"""
    size, k, s, p, d = case
    expected = torch_conv_output_shape((size,), (k,), s, p, d)[0]
    actual = call_valid(lambda: student.conv_output_size(size, k, stride=s, padding=p, dilation=d),
                        "conv_output_size", FORMULA_HINT)
    assert_close(actual, expected, name=N_("conv_output_size result"), hint=FORMULA_HINT)


@st.composite
def valid_nd(draw):
    nd = draw(st.integers(1, 3))
    dims = [draw(valid_1d(max_size=12)) for _ in range(nd)]
    names = ("size", "kernel_size", "stride", "padding", "dilation")
    args = {}
    for i, name in enumerate(names):
        values = tuple(dim[i] for dim in dims)
        # an int broadcasts; only possible when every dim has the same value
        if len(set(values)) == 1 and draw(st.booleans()):
            args[name] = values[0]
        else:
            args[name] = values
    if not any(isinstance(v, tuple) for v in args.values()):
        args["size"] = tuple(dim[0] for dim in dims)
    return dims, args


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "broadcasting")
@given(case=valid_nd())
def test_conv_output_size_tuples(student, case):
    """1.1 conv_output_size with tuple arguments (ints broadcast)"""
    dims, args = case
    expected = torch_conv_output_shape(*(tuple(dim[i] for dim in dims) for i in range(5)))
    actual = call_valid(lambda: student.conv_output_size(args["size"], args["kernel_size"], stride=args["stride"],
                                                         padding=args["padding"], dilation=args["dilation"]),
                        "conv_output_size", FORMULA_HINT)
    assert_true(isinstance(actual, tuple), N_("conv_output_size returned a {name} for tuple arguments; expected a "
                                              "tuple.").format(name=type(actual).__name__), BROADCAST_HINT)
    assert_close(actual, expected, name=N_("conv_output_size result"), hint=BROADCAST_HINT + "; " + FORMULA_HINT)


@pytest.mark.task("1.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "padding")
@given(case=valid_1d(max_size=30), nd=st.integers(1, 2))
def test_conv_output_size_same_valid(student, case, nd):
    """1.1 conv_output_size with padding='same' and 'valid'"""
    size, k, s, _, d = case
    size = max(size, d * (k - 1) + 1)           # 'valid' needs the whole dilated kernel inside
    sizes = (size,) * nd if nd > 1 else size
    as_dims = lambda v: v if nd == 1 else (v,) * nd      # noqa: E731
    # 'valid' is padding 0: ask torch
    expected_valid = torch_conv_output_shape((size,) * nd, (k,) * nd, s, 0, d)
    actual = call_valid(lambda: student.conv_output_size(sizes, k, stride=s, padding="valid", dilation=d),
                        "conv_output_size", SAME_HINT + "; " + FORMULA_HINT)
    assert_close(actual, as_dims(expected_valid[0]), name=N_("conv_output_size(padding='valid')"), hint=SAME_HINT)
    # 'same': torch only defines it for stride 1 (output = input); for larger strides the
    # handout's (TensorFlow's) definition is ceil(size / stride)
    expected_same = torch_conv_output_shape((size,) * nd, (k,) * nd, 1, "same", d)[0] if s == 1 \
        else math.ceil(size / s)
    actual = call_valid(lambda: student.conv_output_size(sizes, k, stride=s, padding="same", dilation=d),
                        "conv_output_size", SAME_HINT)
    assert_close(actual, as_dims(expected_same), name=N_("conv_output_size(padding='same')"), hint=SAME_HINT)


CONV_ERRORS = [
    pytest.param(dict(size=8, kernel_size=0), ("kernel_size",), N_("a kernel_size that is not positive"),
                 id="kernel_size"),
    pytest.param(dict(size=8, kernel_size=3, stride=0), ("stride",), N_("a stride that is not positive"), id="stride"),
    pytest.param(dict(size=8, kernel_size=3, dilation=-1), ("dilation",), N_("a dilation that is not positive"),
                 id="dilation"),
    pytest.param(dict(size=(8, 8), kernel_size=(3, -2)), ("kernel_size",),
                 N_("a tuple kernel_size with a non-positive entry"),
                 id="tuple-entry"),
    pytest.param(dict(size=3, kernel_size=3, dilation=2), ("size",), N_("an input smaller than the dilated kernel"),
                 id="output-not-positive"),
]


@pytest.mark.task("1.1")
@pytest.mark.points(0.5)
@pytest.mark.tags("errors")
@pytest.mark.parametrize("kwargs, names, what", CONV_ERRORS)
def test_conv_output_size_errors(student, kwargs, names, what):
    """1.1 conv_output_size raises ValueError naming the bad argument"""
    expect_value_error(lambda: student.conv_output_size(**kwargs), "conv_output_size", names=names, what=what,
                       hint=N_("check kernel_size, stride and dilation are positive and that the output size is at "
                               "least 1; raise ValueError with the argument's name in the message"))


# ---- 1.2 conv_transpose_output_size ------------------------------------------------------------

@st.composite
def transpose_1d(draw, max_size=20):
    k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    op = draw(st.integers(0, max(s, d) - 1))      # torch: output_padding < max(stride, dilation)
    p = draw(st.integers(0, 3))
    size = draw(st.integers(1, max_size))
    return size, k, s, p, op, d


@pytest.mark.task("1.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "transpose")
@given(case=transpose_1d())
def test_conv_transpose_output_size_int(student, case):
    """1.2 conv_transpose_output_size matches F.conv_transpose1d's shape"""
    size, k, s, p, op, d = case
    expected = torch_conv_transpose_output_shape((size,), (k,), s, p, op, d)
    assume(expected is not None)
    actual = call_valid(lambda: student.conv_transpose_output_size(size, k, stride=s, padding=p,
                                                                   output_padding=op, dilation=d),
                        "conv_transpose_output_size", TRANSPOSE_HINT)
    assert_close(actual, expected[0], name=N_("conv_transpose_output_size result"), hint=TRANSPOSE_HINT)


@pytest.mark.task("1.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "broadcasting", "transpose")
@given(nd=st.integers(2, 3), data=st.data())
def test_conv_transpose_output_size_tuples(student, nd, data):
    """1.2 conv_transpose_output_size with tuple arguments (ints broadcast)"""
    dims = [data.draw(transpose_1d(max_size=10)) for _ in range(nd)]
    columns = [tuple(dim[i] for dim in dims) for i in range(6)]
    expected = torch_conv_transpose_output_shape(*columns)
    assume(expected is not None)
    # kernel_size as an int when every dim shares it: exercises broadcasting
    kernel = columns[1][0] if len(set(columns[1])) == 1 else columns[1]
    actual = call_valid(lambda: student.conv_transpose_output_size(columns[0], kernel, stride=columns[2],
                                                                   padding=columns[3], output_padding=columns[4],
                                                                   dilation=columns[5]),
                        "conv_transpose_output_size", TRANSPOSE_HINT)
    assert_true(isinstance(actual, tuple), N_("conv_transpose_output_size returned a {name} for tuple arguments; "
                                              "expected a tuple.").format(name=type(actual).__name__), BROADCAST_HINT)
    assert_close(actual, expected, name=N_("conv_transpose_output_size result"),
                 hint=BROADCAST_HINT + "; " + TRANSPOSE_HINT)


@pytest.mark.task("1.2")
@pytest.mark.points(0.5)
@pytest.mark.tags("errors", "transpose")
@pytest.mark.parametrize("kwargs, names, what", [
    pytest.param(dict(size=5, kernel_size=0), ("kernel_size",), "a kernel_size that is not positive",
                 id="kernel_size"),
    pytest.param(dict(size=5, kernel_size=3, stride=0), ("stride",), N_("a stride that is not positive"), id="stride"),
    pytest.param(dict(size=5, kernel_size=3, dilation=0), ("dilation",), "a dilation that is not positive",
                 id="dilation"),
])
def test_conv_transpose_output_size_errors(student, kwargs, names, what):
    """1.2 conv_transpose_output_size raises ValueError naming the bad argument"""
    expect_value_error(lambda: student.conv_transpose_output_size(**kwargs), "conv_transpose_output_size",
                       names=names, what=what,
                       hint=N_("kernel_size, stride and dilation must be positive; raise ValueError naming the "
                               "argument"))


# ---- 1.3 receptive_field -------------------------------------------------------------------------

layer_2 = st.tuples(st.integers(1, 7), st.integers(1, 3))
layer_3 = st.tuples(st.integers(1, 5), st.integers(1, 2), st.integers(1, 3))


@pytest.mark.task("1.3")
@pytest.mark.points(3)
@pytest.mark.tags("correctness", "receptive field")
@settings(max_examples=15)
@given(layers=st.lists(st.one_of(layer_2, layer_3), min_size=1, max_size=5))
def test_receptive_field_random_stacks(student, layers):
    """1.3 receptive_field of random layer stacks (measured with autograd)"""
    expected = brute_force_receptive_field(layers)
    assert_close(student.receptive_field(layers), expected, name=N_("receptive field"), hint=RF_HINT)


NETWORKS = [
    pytest.param([(3, 1), (3, 1), (3, 1)], id="three-3x3-convs"),
    pytest.param([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)], id="vgg-blocks-with-pooling"),
    pytest.param([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1)], id="alexnet-like"),
    pytest.param([(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)], id="dilated-stack"),
    pytest.param([(7, 2), (3, 2, 1), (3, 1, 2), [3, 2]], id="mixed-2-and-3-tuples"),
]


@pytest.mark.task("1.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "receptive field")
@pytest.mark.parametrize("layers", NETWORKS)
def test_receptive_field_networks(student, layers):
    """1.3 receptive_field of well-known layer stacks"""
    expected = brute_force_receptive_field(layers)
    assert_close(student.receptive_field(layers), expected, name=N_("receptive field"), hint=RF_HINT)


# ---- 1.5 separable_conv_params -------------------------------------------------------------------

def count_params(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


@pytest.mark.task("1.5")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "separable")
@pytest.mark.parametrize("bias", [pytest.param(True, id="bias"), pytest.param(False, id="no-bias")])
@settings(max_examples=10)
@given(c_in=st.integers(1, 64), c_out=st.integers(1, 64),
       kernel=st.one_of(st.integers(1, 7), st.tuples(st.integers(1, 7), st.integers(1, 7))))
def test_separable_conv_params(student, bias, c_in, c_out, kernel):
    """1.5 separable_conv_params matches the parameters of real nn.Conv2d modules"""
    nn = torch.nn
    # meta tensors: the modules get parameter shapes without allocating memory
    standard = count_params(nn.Conv2d(c_in, c_out, kernel, bias=bias, device="meta"))
    separable = count_params(nn.Conv2d(c_in, c_in, kernel, groups=c_in, bias=bias, device="meta"),
                             nn.Conv2d(c_in, c_out, 1, bias=bias, device="meta"))
    actual = student.separable_conv_params(c_in, c_out, kernel, bias=bias)
    assert_close(actual, (standard, separable), name=N_("(standard, depthwise_separable) parameter counts"),
                 hint=SEPARABLE_HINT)
