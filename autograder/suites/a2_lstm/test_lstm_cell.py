"""Hidden tests for task 2.1, lstm_cell."""
import pytest
import torch
from hypothesis import given, settings

from autograder.suites.a2_lstm import hints
from autograder.suites.a2_lstm.strategies import (Dims, bias_modes, detached, dims, state,
                                                  torch_lstm_cell, weights)
from shared.compare import assert_close, assert_true, assert_structure
from shared.strategies import randn
from shared.i18n import N_



def _torch_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    with torch.no_grad():
        return torch_lstm_cell(w_ih, w_hh, b_ih, b_hh)(x, (h, c))


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "torch")
@settings(max_examples=15)
@given(d=dims())
def test_lstm_cell_matches_torch(student, d):
    """2.1 lstm_cell matches nn.LSTMCell (random shapes, float32/float64)"""
    x, h, c = state(d)
    w = weights(d, 4)
    expected = _torch_cell(x, h, c, *w)
    assert_close(student.lstm_cell(x, h, c, *w), expected, name="lstm_cell (h_next, c_next)", hint=hints.LSTM)


@pytest.mark.task("2.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness")
@settings(max_examples=12)
@given(d=dims(max_batch=5, max_input=7, max_hidden=7), bias=bias_modes)
def test_lstm_cell_matches_reference(student, reference, d, bias):
    """2.1 lstm_cell matches the reference with any combination of biases"""
    x, h, c = state(d)
    w = weights(d, 4, bias=bias)
    expected = reference.lstm_cell(x, h, c, *w)
    hint = hints.BIAS if bias in ("ih", "hh") else hints.LSTM
    assert_close(student.lstm_cell(x, h, c, *w), expected, name="lstm_cell (h_next, c_next)", hint=hint)


@pytest.mark.task("2.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "gate order")
@pytest.mark.parametrize("seed", [101, 202])
def test_lstm_cell_gate_order(student, seed):
    """2.1 lstm_cell splits the gates in the order i, f, g, o"""
    d = Dims(batch=3, input_size=5, hidden=4, seed=seed, dtype=torch.float64)
    x, h, c = state(d)
    w_ih, w_hh, _, _ = weights(d, 4, bias="none", scale=1.0)
    expected = _torch_cell(x, h, c, w_ih, w_hh, None, None)
    assert_close(student.lstm_cell(x, h, c, w_ih, w_hh), expected, name="lstm_cell (h_next, c_next)",
                 hint=hints.GATE_ORDER)


@pytest.mark.task("2.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "activations")
@pytest.mark.parametrize("seed", [7, 8])
def test_lstm_cell_activations(student, seed):
    """2.1 lstm_cell applies sigmoid to the gates and tanh to the candidate and cell state"""
    # Zero weights: the pre-activations are exactly bias_ih, so the result has a closed form.
    batch, inp, hid = 2, 3, 5
    x = randn((batch, inp), seed, torch.float64)
    h = randn((batch, hid), seed + 1, torch.float64)
    c = randn((batch, hid), seed + 2, torch.float64)
    pre = randn((4 * hid,), seed + 3, torch.float64, scale=2.0)
    w_ih, w_hh = torch.zeros(4 * hid, inp, dtype=torch.float64), torch.zeros(4 * hid, hid, dtype=torch.float64)
    p_i, p_f, p_g, p_o = pre.chunk(4)
    c_next = torch.sigmoid(p_f) * c + torch.sigmoid(p_i) * torch.tanh(p_g)
    h_next = torch.sigmoid(p_o) * torch.tanh(c_next)
    got = student.lstm_cell(x, h, c, w_ih, w_hh, pre, torch.zeros_like(pre))
    assert_close(got, (h_next, c_next), name=N_("lstm_cell (h_next, c_next) with zero weights"),
                 hint=hints.ACTIVATIONS)


@pytest.mark.task("2.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "bias")
@pytest.mark.parametrize("case", ["bias_ih_only", "bias_hh_only", "forget_bias"])
def test_lstm_cell_biases(student, case):
    """2.1 lstm_cell adds bias_ih and bias_hh (forget-gate bias included)"""
    d = Dims(batch=3, input_size=4, hidden=3, seed=31, dtype=torch.float64)
    x, h, c = state(d)
    w_ih, w_hh, b_ih, b_hh = weights(d, 4, bias="both")
    hint = hints.BIAS
    if case == "bias_ih_only":
        b_hh = None
    elif case == "bias_hh_only":
        b_ih = None
    else:
        # only the forget gate has a bias (a common initialisation trick: forget bias = 1..3)
        mask = torch.zeros(4 * d.hidden, dtype=d.dtype)
        mask[d.hidden:2 * d.hidden] = 1.0
        b_ih, b_hh = b_ih.abs() * mask + 1.0 * mask, b_hh.abs() * mask
        hint = hints.FORGET_BIAS
    expected = _torch_cell(x, h, c, w_ih, w_hh, b_ih, b_hh)
    assert_close(student.lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh), expected,
                 name="lstm_cell (h_next, c_next)", hint=hint)


@pytest.mark.task("2.1")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "edge case")
@pytest.mark.parametrize("case", ["bias_none", "batch_1", "hidden_1"])
def test_lstm_cell_edge_cases(student, case):
    """2.1 lstm_cell edge cases: no biases, batch of 1, hidden size 1"""
    d = Dims(batch=1 if case == "batch_1" else 3, input_size=4, hidden=1 if case == "hidden_1" else 5,
             seed=41, dtype=torch.float32)
    x, h, c = state(d)
    w = weights(d, 4, bias="none" if case == "bias_none" else "both")
    expected = _torch_cell(x, h, c, *w)
    hint = hints.BIAS if case == "bias_none" else hints.LSTM
    assert_close(student.lstm_cell(x, h, c, *w), expected, name="lstm_cell (h_next, c_next)", hint=hint)


@pytest.mark.task("2.1")
@pytest.mark.points(0.5)
@pytest.mark.tags("dtype")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_lstm_cell_dtype(student, dtype):
    """2.1 lstm_cell keeps the input dtype"""
    d = Dims(batch=2, input_size=3, hidden=4, seed=51, dtype=dtype)
    x, h, c = state(d)
    w = weights(d, 4)
    h_next, c_next = student.lstm_cell(x, h, c, *w)
    for name, t in (("h_next", h_next), ("c_next", c_next)):
        assert_true(isinstance(t, torch.Tensor) and t.dtype == dtype,
                    N_("your {name} is not a {dtype} tensor for {dtype} inputs.").format(name=name, dtype=dtype),
                    hints.DTYPE)


@pytest.mark.task("2.1")
@pytest.mark.points(2)
@pytest.mark.tags("autograd")
@settings(max_examples=8)
@given(d=dims(dtype=torch.float64))
def test_lstm_cell_gradients(student, d):
    """2.1 lstm_cell gradients (inputs, states, weights, biases) match nn.LSTMCell"""
    x, h, c = state(d, requires_grad=True)
    w = weights(d, 4, requires_grad=True)
    gh = randn((d.batch, d.hidden), d.seed + 21, d.dtype)
    gc = randn((d.batch, d.hidden), d.seed + 22, d.dtype)

    tx, th, tc = detached(x, h, c)
    cell = torch_lstm_cell(*w)
    eh, ec = cell(tx, (th, tc))
    ((eh * gh).sum() + (ec * gc).sum()).backward()

    sh, sc = student.lstm_cell(x, h, c, *w)
    assert_close((sh, sc), (eh, ec), name="lstm_cell (h_next, c_next)", hint=hints.LSTM)
    assert_true(sh.requires_grad and sc.requires_grad,
                N_("your lstm_cell outputs are not connected to the autograd graph."), hints.GRAD)
    ((sh * gh).sum() + (sc * gc).sum()).backward()
    for name, mine, theirs in (("x", x, tx), ("h", h, th), ("c", c, tc)):
        assert_close(mine.grad, theirs.grad, name=N_("gradient of {name}").format(name=name), hint=hints.GRAD)
    for name, mine in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), w):
        assert_close(mine.grad, getattr(cell, name).grad, name=N_("gradient of {name}").format(name=name),
                     hint=hints.GRAD)


@pytest.mark.task("2.1")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_lstm_cell_forbidden(student, reference):
    """2.1 lstm_cell works without torch's LSTM cell (nn.LSTMCell, torch.lstm_cell)"""
    d = Dims(batch=2, input_size=3, hidden=4, seed=61, dtype=torch.float32)
    x, h, c = state(d)
    w = weights(d, 4)
    with student.forbid("lstm_cell", *hints.LSTM_APIS):
        got = student.lstm_cell(x, h, c, *w)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.lstm_cell(x, h, c, *w), name='lstm_cell (h_next, c_next)')
