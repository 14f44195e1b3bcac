"""A correct a2_lstm submission, written differently from the reference:
[x, h] concatenated against concatenated weights, gates sliced by index, a per-step
call of lstm_cell in lstm_forward, and the total norm of clip_grad_norm taken over one
flattened vector."""
import torch


def _affine(inputs, weights, biases):
    z = torch.cat(inputs, dim=-1) @ torch.cat(weights, dim=1).t()
    for b in biases:
        if b is not None:
            z = z + b
    return z


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    z = _affine((x, h), (weight_ih, weight_hh), (bias_ih, bias_hh))
    H = h.shape[-1]
    input_gate = torch.sigmoid(z[..., 0:H])
    forget_gate = torch.sigmoid(z[..., H:2 * H])
    candidate = torch.tanh(z[..., 2 * H:3 * H])
    output_gate = torch.sigmoid(z[..., 3 * H:4 * H])
    c_new = forget_gate * c + input_gate * candidate
    return output_gate * torch.tanh(c_new), c_new


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    h, c = h0, c0
    hs = []
    for x_t in x.unbind(0):
        h, c = lstm_cell(x_t, h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
    return torch.stack(hs), (h, c)


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    H = h.shape[-1]
    a = x @ weight_ih.t()
    b = h @ weight_hh.t()
    if bias_ih is not None:
        a = a + bias_ih
    if bias_hh is not None:
        b = b + bias_hh
    reset = torch.sigmoid(a[..., :H] + b[..., :H])
    update = torch.sigmoid(a[..., H:2 * H] + b[..., H:2 * H])
    new = torch.tanh(a[..., 2 * H:] + reset * b[..., 2 * H:])
    return new + update * (h - new)


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    p = float(norm_type)
    with torch.no_grad():
        flat = torch.cat([g.reshape(-1) for g in grads])
        if p == float("inf"):
            total = flat.abs().max()
        else:
            total = flat.abs().pow(p).sum().pow(1.0 / p)
        scale = max_norm / (total + 1e-6)
        if scale < 1:
            for g in grads:
                g.mul_(scale.to(g.dtype))
    return total
