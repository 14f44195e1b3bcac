"""Public tests for assignment a2_lstm.  Run them with

    python grade.py check a2_lstm a2_lstm.py
    python grade.py check a2_lstm a2_lstm.py -k lstm_cell      # one function's checks

They are small sanity checks against torch's own layers.  The hidden tests check much
more (random shapes and dtypes, gradients, biases left out, speed, forbidden APIs).
"""
import math

import pytest
import torch

from shared.compare import assert_close, assert_true
from shared.strategies import randn
from shared.i18n import N_

pytestmark = pytest.mark.visibility("visible")

B, I, H, T = 3, 4, 5, 6


def _lstm_weights(dtype=torch.float64, hidden=H, gates=4, seed=0):
    return (randn((gates * hidden, I), seed + 1, dtype, scale=0.5), randn((gates * hidden, hidden), seed + 2, dtype, scale=0.5),
            randn((gates * hidden,), seed + 3, dtype, scale=0.5), randn((gates * hidden,), seed + 4, dtype, scale=0.5))


def _load(module, names, values):
    with torch.no_grad():
        for name, value in zip(names, values):
            getattr(module, name).copy_(value)
    return module


# ---- 2.1 lstm_cell -----------------------------------------------------------------
def test_lstm_cell_shapes(student):
    """lstm_cell returns (h_next, c_next), each (B, H)"""
    w = _lstm_weights()
    out = student.lstm_cell(randn((B, I), 10), randn((B, H), 11), randn((B, H), 12), *w)
    assert_true(isinstance(out, tuple) and len(out) == 2, N_("lstm_cell must return a tuple (h_next, c_next)."))
    assert_true(tuple(out[0].shape) == (B, H) and tuple(out[1].shape) == (B, H),
                N_("h_next and c_next must both have shape {shape}.").format(shape=(B, H)))


def test_lstm_cell_matches_torch(student):
    """lstm_cell equals nn.LSTMCell with the same weights"""
    w = _lstm_weights()
    x, h, c = randn((B, I), 10), randn((B, H), 11), randn((B, H), 12)
    cell = _load(torch.nn.LSTMCell(I, H, dtype=torch.float64), ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), w)
    with torch.no_grad():
        expected = cell(x, (h, c))
    assert_close(student.lstm_cell(x, h, c, *w), expected, name="lstm_cell (h_next, c_next)",
                 hint=N_("gate order i, f, g, o; c_next = f*c + i*g; h_next = o*tanh(c_next)"))


def test_lstm_cell_without_bias(student):
    """lstm_cell with bias_ih = bias_hh = None equals nn.LSTMCell(bias=False)"""
    w_ih, w_hh, _, _ = _lstm_weights(torch.float32)
    x, h, c = randn((1, I), 13, torch.float32), randn((1, H), 14, torch.float32), randn((1, H), 15, torch.float32)
    cell = _load(torch.nn.LSTMCell(I, H, bias=False), ("weight_ih", "weight_hh"), (w_ih, w_hh))
    with torch.no_grad():
        expected = cell(x, (h, c))
    assert_close(student.lstm_cell(x, h, c, w_ih, w_hh), expected, name="lstm_cell (h_next, c_next)",
                 hint=N_("a bias that is None is left out; keep the float32 dtype"))


# ---- 2.2 lstm_forward --------------------------------------------------------------
def test_lstm_forward_matches_torch(student):
    """lstm_forward equals a one-layer nn.LSTM (time first)"""
    w = _lstm_weights()
    x, h0, c0 = randn((T, B, I), 20), randn((B, H), 21), randn((B, H), 22)
    lstm = _load(torch.nn.LSTM(I, H, dtype=torch.float64), ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), w)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    got = student.lstm_forward(x, h0, c0, *w)
    assert_true(isinstance(got, tuple) and len(got) == 2, N_("lstm_forward must return (output, (h_n, c_n))."))
    assert_close(got[0], out, name="lstm_forward output", hint=N_("output[t] is the hidden state after step t"))
    assert_close(tuple(got[1]), (h_n[0], c_n[0]), name="lstm_forward (h_n, c_n)",
                 hint=N_("(h_n, c_n) are the states after the last step, shaped (B, H)"))


def test_lstm_forward_gradients(student):
    """lstm_forward is differentiable: the gradient of x matches nn.LSTM's"""
    w = _lstm_weights()
    x = randn((T, B, I), 23, requires_grad=True)
    h0, c0 = randn((B, H), 24), randn((B, H), 25)
    lstm = _load(torch.nn.LSTM(I, H, dtype=torch.float64), ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), w)
    x_ref = x.detach().clone().requires_grad_(True)
    lstm(x_ref, (h0.unsqueeze(0), c0.unsqueeze(0)))[0].sum().backward()
    student.lstm_forward(x, h0, c0, *w)[0].sum().backward()
    assert_true(x.grad is not None,
                N_("no gradient reached x: build the output from differentiable torch operations."))
    assert_close(x.grad, x_ref.grad, name=N_("gradient of {name}").format(name="x"),
                 hint=N_("do not detach or write into tensors in place"))


# ---- 2.3 gru_cell ------------------------------------------------------------------
def test_gru_cell_matches_torch(student):
    """gru_cell equals nn.GRUCell with the same weights"""
    w = _lstm_weights(gates=3)
    x, h = randn((B, I), 30), randn((B, H), 31)
    cell = _load(torch.nn.GRUCell(I, H, dtype=torch.float64), ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), w)
    with torch.no_grad():
        expected = cell(x, h)
    assert_close(student.gru_cell(x, h, *w), expected, name="gru_cell h_next",
                 hint=N_("gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h_next = (1-z)*n + z*h"))


# ---- 2.4 clip_grad_norm ------------------------------------------------------------
def test_clip_grad_norm_worked_example(student):
    """clip_grad_norm on the handout's example: norm 5 clipped to 1, in place"""
    g = [torch.tensor([3.0, 4.0])]
    total = student.clip_grad_norm(g, 1.0)
    assert_true(isinstance(total, torch.Tensor), N_("clip_grad_norm must return the total norm as a tensor."))
    assert_close(total, torch.tensor(5.0), name=N_("total norm"))
    assert_close(g[0], torch.tensor([3.0, 4.0]) / (5.0 + 1e-6), name=N_("clipped gradient (changed in place)"),
                 hint=N_("multiply the given tensors in place by max_norm / (total + 1e-6)"))


@pytest.mark.parametrize("norm_type", [2.0, math.inf], ids=["l2", "inf"])
def test_clip_grad_norm_matches_torch(student, norm_type):
    """clip_grad_norm equals torch.nn.utils.clip_grad_norm_ (2-norm and inf-norm)"""
    grads = [randn((4, 3), 40, torch.float32, scale=2.0), randn((5,), 41, torch.float32, scale=2.0)]
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    expected_total = torch.nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
    mine = [g.clone() for g in grads]
    total = student.clip_grad_norm(mine, 1.0, norm_type)
    assert_close(total, expected_total, name=N_("total norm"), hint=N_("the norm of all gradients as one vector"))
    for k, (g, p) in enumerate(zip(mine, params)):
        assert_close(g, p.grad, name=N_("gradient {k} after clipping").format(k=k),
                     hint=N_("scale in place when the norm exceeds max_norm"))


def test_clip_grad_norm_below_max_norm(student):
    """clip_grad_norm leaves small gradients unchanged"""
    grads = [randn((3, 3), 42, torch.float64, scale=0.01)]
    mine = [g.clone() for g in grads]
    total = student.clip_grad_norm(mine, 10.0)
    assert_close(total, torch.linalg.vector_norm(grads[0]), name=N_("total norm"))
    assert_close(mine[0], grads[0], name=N_("gradient (norm below max_norm)"),
                 hint=N_("the scale factor is clamped to 1"))
