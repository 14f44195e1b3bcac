"""Hidden tests for task 2.3, gru_cell."""
import pytest
import torch
from hypothesis import given, settings

from autograder.suites.a2_lstm import hints
from autograder.suites.a2_lstm.strategies import Dims, bias_modes, detached, dims, state, torch_gru_cell, weights
from shared.compare import assert_close, assert_true, assert_structure
from shared.strategies import randn
from shared.i18n import N_



def _torch_gru(x, h, w_ih, w_hh, b_ih, b_hh):
    with torch.no_grad():
        return torch_gru_cell(w_ih, w_hh, b_ih, b_hh)(x, h)


@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "torch")
@settings(max_examples=15)
@given(d=dims())
def test_gru_cell_matches_torch(student, d):
    """2.3 gru_cell matches nn.GRUCell (random shapes, float32/float64)"""
    x, h, _ = state(d)
    w = weights(d, 3)
    expected = _torch_gru(x, h, *w)
    assert_close(student.gru_cell(x, h, *w), expected, name="gru_cell h_next", hint=hints.GRU)


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness")
@settings(max_examples=12)
@given(d=dims(max_batch=5, max_input=7, max_hidden=7), bias=bias_modes)
def test_gru_cell_matches_reference(student, reference, d, bias):
    """2.3 gru_cell matches the reference with any combination of biases"""
    x, h, _ = state(d)
    w = weights(d, 3, bias=bias)
    expected = reference.gru_cell(x, h, *w)
    hint = hints.BIAS if bias in ("ih", "hh") else hints.GRU
    assert_close(student.gru_cell(x, h, *w), expected, name="gru_cell h_next", hint=hint)


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "reset gate")
@pytest.mark.parametrize("seed", [111, 222])
def test_gru_cell_reset_gate(student, seed):
    """2.3 gru_cell applies the reset gate to the recurrent candidate term, as nn.GRUCell"""
    d = Dims(batch=3, input_size=4, hidden=5, seed=seed, dtype=torch.float64)
    x, h, _ = state(d)
    w = weights(d, 3, scale=1.0)
    expected = _torch_gru(x, h, *w)
    assert_close(student.gru_cell(x, h, *w), expected, name="gru_cell h_next", hint=hints.RESET_GATE)


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "update gate")
@pytest.mark.parametrize("seed", [5, 6])
def test_gru_cell_update_gate(student, seed):
    """2.3 gru_cell mixes the old state and the candidate with the update gate"""
    # Zero weights: the pre-activations are the biases, so h_next has a closed form.
    batch, inp, hid = 2, 3, 4
    x = randn((batch, inp), seed, torch.float64)
    h = randn((batch, hid), seed + 1, torch.float64)
    p = randn((3 * hid,), seed + 2, torch.float64, scale=2.0)
    q = randn((3 * hid,), seed + 3, torch.float64, scale=2.0)
    (p_r, p_z, p_n), (q_r, q_z, q_n) = p.chunk(3), q.chunk(3)
    r, z = torch.sigmoid(p_r + q_r), torch.sigmoid(p_z + q_z)
    n = torch.tanh(p_n + r * q_n)
    expected = (1 - z) * n + z * h
    w_ih, w_hh = torch.zeros(3 * hid, inp, dtype=torch.float64), torch.zeros(3 * hid, hid, dtype=torch.float64)
    assert_close(student.gru_cell(x, h, w_ih, w_hh, p, q), expected, name=N_("gru_cell h_next with zero weights"),
                 hint=hints.UPDATE_GATE)


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "edge case")
@pytest.mark.parametrize("case", ["bias_none", "batch_1", "float32"])
def test_gru_cell_edge_cases(student, case):
    """2.3 gru_cell edge cases: no biases, batch of 1, float32 kept"""
    d = Dims(batch=1 if case == "batch_1" else 3, input_size=4, hidden=5, seed=121,
             dtype=torch.float32 if case == "float32" else torch.float64)
    x, h, _ = state(d)
    w = weights(d, 3, bias="none" if case == "bias_none" else "both")
    expected = _torch_gru(x, h, *w)
    hint = {"bias_none": hints.BIAS, "float32": hints.DTYPE}.get(case, hints.GRU)
    assert_close(student.gru_cell(x, h, *w), expected, name="gru_cell h_next", hint=hint)


@pytest.mark.task("2.3")
@pytest.mark.points(2)
@pytest.mark.tags("autograd")
@settings(max_examples=8)
@given(d=dims(dtype=torch.float64))
def test_gru_cell_gradients(student, d):
    """2.3 gru_cell gradients (input, state, weights, biases) match nn.GRUCell"""
    x, h, _ = state(d, requires_grad=True)
    w = weights(d, 3, requires_grad=True)
    g = randn((d.batch, d.hidden), d.seed + 41, d.dtype)

    tx, th = detached(x, h)
    cell = torch_gru_cell(*w)
    expected = cell(tx, th)
    (expected * g).sum().backward()

    got = student.gru_cell(x, h, *w)
    assert_close(got, expected, name="gru_cell h_next", hint=hints.GRU)
    assert_true(got.requires_grad, N_("your gru_cell output is not connected to the autograd graph."), hints.GRAD)
    (got * g).sum().backward()
    for name, mine, theirs in (("x", x, tx), ("h", h, th)):
        assert_close(mine.grad, theirs.grad, name=N_("gradient of {name}").format(name=name), hint=hints.GRAD)
    for name, mine in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), w):
        assert_close(mine.grad, getattr(cell, name).grad, name=N_("gradient of {name}").format(name=name),
                     hint=hints.GRAD)


@pytest.mark.task("2.3")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_gru_cell_forbidden(student, reference):
    """2.3 gru_cell works without torch's GRU cell (nn.GRUCell, torch.gru_cell)"""
    d = Dims(batch=2, input_size=3, hidden=4, seed=131, dtype=torch.float32)
    x, h, _ = state(d)
    w = weights(d, 3)
    with student.forbid("gru_cell", *hints.GRU_APIS):
        got = student.gru_cell(x, h, *w)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.gru_cell(x, h, *w), name='gru_cell h_next')
