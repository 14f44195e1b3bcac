"""Hypothesis composites and seeded input builders for the a2_lstm suite.

Hypothesis draws sizes, seeds and dtypes; every tensor is then built from its own
seeded generator (shared.strategies.randn), so a case is reproducible from its draw.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from shared.strategies import float_dtypes, randn, seeds


@dataclass(frozen=True)
class Dims:
    batch: int
    input_size: int
    hidden: int
    seed: int
    dtype: torch.dtype
    steps: int = 1


@st.composite
def dims(draw, max_batch: int = 4, max_input: int = 6, max_hidden: int = 6, max_steps: int = 1,
         dtype=None) -> Dims:
    return Dims(batch=draw(st.integers(1, max_batch)),
                input_size=draw(st.integers(1, max_input)),
                hidden=draw(st.integers(1, max_hidden)),
                seed=draw(seeds),
                dtype=draw(float_dtypes) if dtype is None else dtype,
                steps=draw(st.integers(1, max_steps)))


# which biases a call passes: both, none, or only one of the two
bias_modes = st.sampled_from(["both", "none", "ih", "hh"])


def weights(d: Dims, gates: int, *, bias: str = "both", device="cpu", requires_grad: bool = False,
            scale: float = 0.5):
    """(weight_ih, weight_hh, bias_ih, bias_hh) for a cell with ``gates`` gate blocks."""
    s = d.seed
    w_ih = randn((gates * d.hidden, d.input_size), s + 11, d.dtype, device, scale, requires_grad)
    w_hh = randn((gates * d.hidden, d.hidden), s + 12, d.dtype, device, scale, requires_grad)
    b_ih = randn((gates * d.hidden,), s + 13, d.dtype, device, scale, requires_grad) if bias in ("both", "ih") else None
    b_hh = randn((gates * d.hidden,), s + 14, d.dtype, device, scale, requires_grad) if bias in ("both", "hh") else None
    return w_ih, w_hh, b_ih, b_hh


def state(d: Dims, device="cpu", requires_grad: bool = False, time_first: bool = False):
    """(x, h, c): x is (B, I), or (T, B, I) when ``time_first``."""
    x_shape = (d.steps, d.batch, d.input_size) if time_first else (d.batch, d.input_size)
    x = randn(x_shape, d.seed + 1, d.dtype, device, 1.0, requires_grad)
    h = randn((d.batch, d.hidden), d.seed + 2, d.dtype, device, 0.8, requires_grad)
    c = randn((d.batch, d.hidden), d.seed + 3, d.dtype, device, 1.0, requires_grad)
    return x, h, c


def detached(*tensors):
    """Fresh leaf copies (same values) for the torch side of a gradient comparison."""
    return tuple(None if t is None else t.detach().clone().requires_grad_(t.requires_grad) for t in tensors)


def torch_lstm_cell(w_ih, w_hh, b_ih, b_hh) -> torch.nn.LSTMCell:
    """nn.LSTMCell holding the given weights (bias=False when both biases are None)."""
    hidden, inp = w_hh.shape[1], w_ih.shape[1]
    cell = torch.nn.LSTMCell(inp, hidden, bias=b_ih is not None or b_hh is not None,
                             device=w_ih.device, dtype=w_ih.dtype)
    _load(cell, {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh})
    return cell


def torch_gru_cell(w_ih, w_hh, b_ih, b_hh) -> torch.nn.GRUCell:
    hidden, inp = w_hh.shape[1], w_ih.shape[1]
    cell = torch.nn.GRUCell(inp, hidden, bias=b_ih is not None or b_hh is not None,
                            device=w_ih.device, dtype=w_ih.dtype)
    _load(cell, {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh})
    return cell


def torch_lstm(w_ih, w_hh, b_ih, b_hh) -> torch.nn.LSTM:
    hidden, inp = w_hh.shape[1], w_ih.shape[1]
    lstm = torch.nn.LSTM(inp, hidden, num_layers=1, bias=b_ih is not None or b_hh is not None,
                         device=w_ih.device, dtype=w_ih.dtype)
    _load(lstm, {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh})
    return lstm


def _load(module: torch.nn.Module, values: dict) -> None:
    """Copy the values into the module's parameters; a None bias becomes zeros (the
    module has no way to leave out only one of its two biases)."""
    with torch.no_grad():
        for name, value in values.items():
            param = getattr(module, name, None)
            if param is None:
                continue
            if value is None:
                param.zero_()
            else:
                param.copy_(value.detach())
