"""Hidden tests for task 2.2, lstm_forward."""
import contextlib

import pytest
import torch
from hypothesis import given, settings

from autograder.suites.a2_lstm import hints
from autograder.suites.a2_lstm.strategies import (Dims, bias_modes, detached, dims, state, torch_lstm,
                                                  torch_lstm_cell, weights)
from shared.compare import assert_close, assert_true, assert_structure
from shared.devices import DEVICES
from shared.strategies import randn
from shared.i18n import N_



def _torch_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    with torch.no_grad():
        out, (h_n, c_n) = torch_lstm(w_ih, w_hh, b_ih, b_hh)(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    return out, (h_n.squeeze(0), c_n.squeeze(0))


def _check(got, expected, hint=hints.FORWARD):
    assert_true(isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[1], (tuple, list)),
                N_("your lstm_forward must return (output, (h_n, c_n))."), hint)
    assert_close(got[0], expected[0], name="lstm_forward output", hint=hint)
    assert_close(tuple(got[1]), expected[1], name="lstm_forward (h_n, c_n)", hint=hint)


@pytest.mark.task("2.2")
@pytest.mark.points(2)
@pytest.mark.tags("correctness", "torch")
@settings(max_examples=12)
@given(d=dims(max_steps=6))
def test_lstm_forward_matches_torch(student, d):
    """2.2 lstm_forward matches a one-layer nn.LSTM (random T, B, sizes)"""
    x, h0, c0 = state(d, time_first=True)
    w = weights(d, 4)
    expected = _torch_forward(x, h0, c0, *w)
    got = student.lstm_forward(x, h0, c0, *w)
    _check(got, expected, N_("{forward}; per step: {cell}").format(forward=hints.FORWARD, cell=hints.LSTM))


@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness")
@settings(max_examples=10)
@given(d=dims(max_steps=5), bias=bias_modes)
def test_lstm_forward_matches_reference(student, reference, d, bias):
    """2.2 lstm_forward matches the reference with any combination of biases"""
    x, h0, c0 = state(d, time_first=True)
    w = weights(d, 4, bias=bias)
    expected = reference.lstm_forward(x, h0, c0, *w)
    _check(student.lstm_forward(x, h0, c0, *w), expected,
           hints.BIAS if bias in ("ih", "hh") else hints.FORWARD)


@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "edge case")
def test_lstm_forward_single_step(student):
    """2.2 lstm_forward with T = 1 is one LSTM cell step"""
    d = Dims(batch=3, input_size=4, hidden=5, seed=71, dtype=torch.float64, steps=1)
    x, h0, c0 = state(d, time_first=True)
    w = weights(d, 4)
    with torch.no_grad():
        h1, c1 = torch_lstm_cell(*w)(x[0], (h0, c0))
    _check(student.lstm_forward(x, h0, c0, *w), (h1.unsqueeze(0), (h1, c1)),
           N_("for T = 1 the output is h_1 with shape (1, B, hidden) and (h_n, c_n) = (h_1, c_1); {forward}").format(
               forward=hints.FORWARD))


@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("correctness", "edge case")
@pytest.mark.parametrize("case", ["bias_none", "batch_1", "float32_long"])
def test_lstm_forward_edge_cases(student, case):
    """2.2 lstm_forward edge cases: no biases, batch of 1, float32 over 20 steps"""
    d = Dims(batch=1 if case == "batch_1" else 3, input_size=4, hidden=5, seed=81,
             dtype=torch.float32 if case == "float32_long" else torch.float64,
             steps=20 if case == "float32_long" else 4)
    x, h0, c0 = state(d, time_first=True)
    w = weights(d, 4, bias="none" if case == "bias_none" else "both")
    expected = _torch_forward(x, h0, c0, *w)
    hint = {"bias_none": hints.BIAS, "float32_long": hints.DTYPE + "; " + hints.FORWARD}.get(case, hints.FORWARD)
    _check(student.lstm_forward(x, h0, c0, *w), expected, hint)


@pytest.mark.task("2.2")
@pytest.mark.points(2)
@pytest.mark.tags("autograd")
@settings(max_examples=6)
@given(d=dims(max_steps=4, dtype=torch.float64))
def test_lstm_forward_gradients(student, d):
    """2.2 lstm_forward gradients (sequence, initial states, weights, biases) match nn.LSTM"""
    x, h0, c0 = state(d, requires_grad=True, time_first=True)
    w = weights(d, 4, requires_grad=True)
    g_out = randn((d.steps, d.batch, d.hidden), d.seed + 31, d.dtype)
    g_h = randn((d.batch, d.hidden), d.seed + 32, d.dtype)
    g_c = randn((d.batch, d.hidden), d.seed + 33, d.dtype)

    tx, th, tc = detached(x, h0, c0)
    lstm = torch_lstm(*w)
    e_out, (e_h, e_c) = lstm(tx, (th.unsqueeze(0), tc.unsqueeze(0)))
    ((e_out * g_out).sum() + (e_h[0] * g_h).sum() + (e_c[0] * g_c).sum()).backward()

    got = student.lstm_forward(x, h0, c0, *w)
    _check(got, (e_out, (e_h[0], e_c[0])))
    s_out, (s_h, s_c) = got
    assert_true(s_out.requires_grad and s_h.requires_grad and s_c.requires_grad,
                N_("your lstm_forward results are not connected to the autograd graph."), hints.GRAD)
    ((s_out * g_out).sum() + (s_h * g_h).sum() + (s_c * g_c).sum()).backward()
    for name, mine, theirs in (("x", x, tx), ("h0", h0, th), ("c0", c0, tc)):
        assert_close(mine.grad, theirs.grad, name=N_("gradient of {name}").format(name=name), hint=hints.GRAD)
    for name, mine in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), w):
        assert_close(mine.grad, getattr(lstm, name).grad,
                     name=N_("gradient of {name}").format(name=name.removesuffix('_l0')),
                     hint=hints.GRAD)


@pytest.mark.task("2.2")
@pytest.mark.points(1)
@pytest.mark.tags("forbidden-api")
def test_lstm_forward_forbidden(student, reference):
    """2.2 lstm_forward works without torch's LSTM (nn.LSTM, torch.lstm, torch.lstm_cell)"""
    d = Dims(batch=2, input_size=3, hidden=4, seed=91, dtype=torch.float32, steps=3)
    x, h0, c0 = state(d, time_first=True)
    w = weights(d, 4)
    with student.forbid("lstm_forward", *hints.LSTM_APIS):
        got = student.lstm_forward(x, h0, c0, *w)
    # only the forbidden calls are judged here, and that a result of the right kind came back:
    # a wrong value is charged by the correctness tests
    assert_structure(got, reference.lstm_forward(x, h0, c0, *w), name='lstm_forward result')


@pytest.mark.task("2.2")
@pytest.mark.points(2)
@pytest.mark.tags("performance")
@pytest.mark.parametrize("device", DEVICES)
def test_lstm_forward_speed(perf, assignment, device):
    """2.2 lstm_forward is vectorized over the batch (within 3x of the reference)"""
    # T=50 steps, batch 48, 64 -> 128 units: the reference takes ~10 ms on one CPU thread,
    # a Python loop over the 48 batch items ~8x as long.
    d = Dims(batch=48, input_size=64, hidden=128, seed=5, dtype=torch.float32, steps=50)
    x, h0, c0 = state(d, device=device, time_first=True)
    w = weights(d, 4, device=device, scale=0.1)
    with _torch_threads(assignment.threads):
        perf.check("lstm_forward", x, h0, c0, *w, hint=hints.VECTORIZE)


@contextlib.contextmanager
def _torch_threads(n):
    """Time with the assignment's thread count also when the code runs in this process
    (the in-process adapter does not apply ``threads``; workers do).  With the default
    thread count on a loaded machine, thread contention inflates the reference's time
    and hides a loop over batch items."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
