"""The a2_lstm reference checked against torch (nn.LSTMCell, nn.LSTM, nn.GRUCell,
torch.nn.utils.clip_grad_norm_), including autograd gradients; every stub function
raises NotImplementedError("Task ..."); the mutants declare what validate expects."""
from __future__ import annotations

import math

import pytest
import torch

from autograder import registry
from shared.adapter import load_module

A2 = registry.get("a2_lstm")
ref = load_module(A2.solution_path, "_a2_reference_under_test")
stub = load_module(A2.stub_path, "_a2_stub_under_test")


def _randn(shape, seed, dtype=torch.float64, scale=1.0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * scale


def _filled(module, seed, dtype):
    module = module.to(dtype)
    with torch.no_grad():
        for k, p in enumerate(module.parameters()):
            p.copy_(_randn(p.shape, seed + k, dtype, 0.5))
    return module


def _params(module, names):
    return [getattr(module, n) for n in names]


CELL = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
LAYER = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("B,I,H", [(1, 1, 1), (3, 4, 5), (8, 16, 7)])
def test_lstm_cell_matches_torch(dtype, bias, B, I, H):
    cell = _filled(torch.nn.LSTMCell(I, H, bias=bias), B + I + H, dtype)
    x, h, c = (_randn((B, I), 1, dtype, 1.0).requires_grad_(), _randn((B, H), 2, dtype).requires_grad_(),
               _randn((B, H), 3, dtype).requires_grad_())
    ws = _params(cell, CELL if bias else CELL[:2])
    w = [p.detach().clone().requires_grad_() for p in ws]
    eh, ec = cell(x, (h, c))
    gh, gc = _randn((B, H), 4, dtype), _randn((B, H), 5, dtype)
    expected = torch.autograd.grad((eh * gh).sum() + (ec * gc).sum(), [x, h, c, *ws])
    ah, ac = ref.lstm_cell(x, h, c, *w)
    assert ah.dtype == dtype and ac.dtype == dtype
    torch.testing.assert_close((ah, ac), (eh, ec))
    got = torch.autograd.grad((ah * gh).sum() + (ac * gc).sum(), [x, h, c, *w])
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("T,B,I,H", [(1, 1, 2, 3), (5, 3, 4, 5), (12, 2, 3, 8)])
def test_lstm_forward_matches_torch(dtype, bias, T, B, I, H):
    lstm = _filled(torch.nn.LSTM(I, H, bias=bias), T + B, dtype)
    x = _randn((T, B, I), 1, dtype).requires_grad_()
    h0, c0 = _randn((B, H), 2, dtype).requires_grad_(), _randn((B, H), 3, dtype).requires_grad_()
    ws = _params(lstm, LAYER if bias else LAYER[:2])
    w = [p.detach().clone().requires_grad_() for p in ws]
    e_out, (e_h, e_c) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    g = _randn((T, B, H), 4, dtype)
    expected = torch.autograd.grad((e_out * g).sum() + e_c.sum(), [x, h0, c0, *ws])
    a_out, (a_h, a_c) = ref.lstm_forward(x, h0, c0, *w)
    assert a_h.shape == (B, H) and a_c.shape == (B, H) and a_out.dtype == dtype
    torch.testing.assert_close((a_out, a_h, a_c), (e_out, e_h[0], e_c[0]))
    got = torch.autograd.grad((a_out * g).sum() + a_c.sum(), [x, h0, c0, *w])
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("B,I,H", [(1, 1, 1), (3, 4, 5), (6, 2, 9)])
def test_gru_cell_matches_torch(dtype, bias, B, I, H):
    cell = _filled(torch.nn.GRUCell(I, H, bias=bias), 7 * B + H, dtype)
    x, h = _randn((B, I), 1, dtype).requires_grad_(), _randn((B, H), 2, dtype).requires_grad_()
    ws = _params(cell, CELL if bias else CELL[:2])
    w = [p.detach().clone().requires_grad_() for p in ws]
    expected_h = cell(x, h)
    g = _randn((B, H), 3, dtype)
    expected = torch.autograd.grad((expected_h * g).sum(), [x, h, *ws])
    got_h = ref.gru_cell(x, h, *w)
    assert got_h.dtype == dtype
    torch.testing.assert_close(got_h, expected_h)
    torch.testing.assert_close(torch.autograd.grad((got_h * g).sum(), [x, h, *w]), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0])
@pytest.mark.parametrize("max_norm", [0.01, 1.0, 1e6])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    grads = [_randn((4, 3), 1, dtype, 2.0), _randn((7,), 2, dtype, 2.0), _randn((2, 2, 2), 3, dtype, 2.0)]
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    expected = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    mine = [g.clone() for g in grads]
    originals = list(mine)
    total = ref.clip_grad_norm(mine, max_norm, norm_type)
    assert isinstance(total, torch.Tensor) and total.dtype == dtype
    torch.testing.assert_close(total, expected)
    for g, p in zip(originals, params):          # scaled in place
        torch.testing.assert_close(g, p.grad)
    if max_norm == 1e6:
        assert all(torch.equal(g, o) for g, o in zip(mine, grads))


def test_mutants_declare_expectations(tmp_path):
    from autograder.mutants import build_file
    mutants = A2.mutants()
    assert len(mutants) >= 6
    for path in mutants:
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        assert head[0].startswith("# mutant: ") and head[1].startswith("# expect: "), path.name
        built = tmp_path / path.name              # a mutant is an overlay: load the module it builds
        built.write_text(build_file(A2, path).source, encoding="utf-8")
        module = load_module(built)
        assert all(callable(getattr(module, f, None)) for f in A2.functions), path.name
