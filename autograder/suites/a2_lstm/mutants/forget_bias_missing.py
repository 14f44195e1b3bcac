# mutant: the biases are added to the i, g, o gates but not to the forget gate
# expect: bias
import torch


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One LSTM step, gate order (i, f, g, o) as torch.nn.LSTMCell."""
    gates = _linear(x, weight_ih, None) + _linear(h, weight_hh, None)
    hidden = gates.shape[-1] // 4
    for b in (bias_ih, bias_hh):
        if b is not None:
            b = b.clone()
            b[hidden:2 * hidden] = 0
            gates = gates + b
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
    x_proj = _linear(x, weight_ih, None)
    hidden = weight_hh.shape[1]
    for b in (bias_ih, bias_hh):
        if b is not None:
            b = b.clone()
            b[hidden:2 * hidden] = 0
            x_proj = x_proj + b
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
