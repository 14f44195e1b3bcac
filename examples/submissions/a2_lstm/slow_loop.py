"""A correct but slow a2_lstm submission: lstm_forward runs every sequence of the batch
separately (a Python loop over batch items), which the speed check must catch."""
import math

import torch


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    gates = x @ weight_ih.T + h @ weight_hh.T
    if bias_ih is not None:
        gates = gates + bias_ih
    if bias_hh is not None:
        gates = gates + bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_next), c_next


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    T, B = x.shape[0], x.shape[1]
    per_item, h_n, c_n = [], [], []
    for b in range(B):                       # one sequence at a time
        h, c = h0[b], c0[b]
        hs = []
        for t in range(T):
            h, c = lstm_cell(x[t, b], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
            hs.append(h)
        per_item.append(torch.stack(hs))
        h_n.append(h)
        c_n.append(c)
    return torch.stack(per_item, dim=1), (torch.stack(h_n), torch.stack(c_n))


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    gi = x @ weight_ih.T
    gh = h @ weight_hh.T
    if bias_ih is not None:
        gi = gi + bias_ih
    if bias_hh is not None:
        gh = gh + bias_hh
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


@torch.no_grad()
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    p = float(norm_type)
    norms = torch.stack([torch.linalg.vector_norm(g, p) for g in grads])
    total = norms.max() if math.isinf(p) else torch.linalg.vector_norm(norms, p)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total
