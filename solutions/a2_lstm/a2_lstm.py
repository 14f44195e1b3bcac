"""Reference solution for a2_lstm (recurrent cells).  Not shipped to students."""
from __future__ import annotations

import torch


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    out = x @ weight.transpose(0, 1)
    return out if bias is None else out + bias


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One LSTM step, gate order (i, f, g, o) as torch.nn.LSTMCell."""
    gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
    c_next = f * c + i * g
    h_next = o * torch.tanh(c_next)
    return h_next, c_next


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """A one-layer LSTM over a time-first sequence x (T, B, input_size)."""
    T = x.shape[0]
    # The input projection of every time step in one matmul; only the recurrent
    # part has to wait for the previous step.
    x_proj = _linear(x, weight_ih, bias_ih)
    if bias_hh is not None:
        x_proj = x_proj + bias_hh
    h, c = h0, c0
    outputs = []
    for t in range(T):
        gates = x_proj[t] + h @ weight_hh.transpose(0, 1)
        i, f, g, o = gates.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    if outputs:
        output = torch.stack(outputs, dim=0)
    else:
        output = x.new_zeros((0,) + tuple(h0.shape))
    return output, (h, c)


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One GRU step, gate order (r, z, n) as torch.nn.GRUCell."""
    gi = _linear(x, weight_ih, bias_ih)
    gh = _linear(h, weight_hh, bias_hh)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


@torch.no_grad()
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Scale ``grads`` in place so that their total norm is at most ``max_norm``;
    return the total norm before clipping."""
    grads = list(grads)
    norm_type = float(norm_type)
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type).to(grads[0].device) for g in grads])
    total = torch.linalg.vector_norm(norms, norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(device=g.device, dtype=g.dtype))
    return total
