# mutant: bias_hh is never added to the gate pre-activations
# expect: bias
import torch


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One LSTM step, gate order (i, f, g, o) as torch.nn.LSTMCell."""
    gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, None)
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
    gh = _linear(h, weight_hh, None)
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h
