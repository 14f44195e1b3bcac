# mutant: GRU reset gate applied to h before the matmul (W_hn (r * h)) instead of to (W_hn h + b_hn)
# expect: reset gate
import torch


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One GRU step, gate order (r, z, n) as torch.nn.GRUCell."""
    gi = _linear(x, weight_ih, bias_ih)
    gh = _linear(h, weight_hh, bias_hh)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    w_hn = weight_hh[2 * h.shape[-1]:]
    b_hn = 0 if bias_hh is None else bias_hh[2 * h.shape[-1]:]
    n = torch.tanh(i_n + (r * h) @ w_hn.transpose(0, 1) + b_hn)
    return (1 - z) * n + z * h
