# mutant: lstm_forward runs a Python loop over batch items (one sequence at a time)
# expect: vectorize
"""Mutant of the a2_lstm reference (one deliberate mistake)."""
from __future__ import annotations

import torch


def _linear(x, weight, bias):
    out = x @ weight.transpose(0, 1)
    return out if bias is None else out + bias


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    outputs, h_last, c_last = [], [], []
    for b in range(x.shape[1]):                      # the mistake: one sequence at a time
        h, c = h0[b:b + 1], c0[b:b + 1]
        steps = []
        for t in range(x.shape[0]):
            h, c = lstm_cell(x[t, b:b + 1], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
            steps.append(h)
        outputs.append(torch.cat(steps, dim=0))
        h_last.append(h)
        c_last.append(c)
    return torch.stack(outputs, dim=1), (torch.cat(h_last, dim=0), torch.cat(c_last, dim=0))


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
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
    grads = list(grads)
    norm_type = float(norm_type)
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype))
    return total
