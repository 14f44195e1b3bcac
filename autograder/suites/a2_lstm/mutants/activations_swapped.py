# mutant: tanh on the gates i, f, o and sigmoid on the candidate g (activations swapped)
# expect: sigmoid
import torch


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One LSTM step, gate order (i, f, g, o) as torch.nn.LSTMCell."""
    gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, o = torch.tanh(i), torch.tanh(f), torch.tanh(o)
    g = torch.sigmoid(g)
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
        c = torch.tanh(f) * c + torch.tanh(i) * torch.sigmoid(g)
        h = torch.tanh(o) * torch.tanh(c)
        outputs.append(h)
    if outputs:
        output = torch.stack(outputs, dim=0)
    else:
        output = x.new_zeros((0,) + tuple(h0.shape))
    return output, (h, c)
