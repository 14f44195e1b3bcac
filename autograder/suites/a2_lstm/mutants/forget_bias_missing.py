# mutant: the biases are added to the i, g, o gates but not to the forget gate
# expect: bias
edit("lstm_cell", r"""
gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)
""", r"""
gates = _linear(x, weight_ih, None) + _linear(h, weight_hh, None)
hidden = gates.shape[-1] // 4
for b in (bias_ih, bias_hh):
    if b is not None:
        b = b.clone()
        b[hidden:2 * hidden] = 0
        gates = gates + b
""")

edit("lstm_forward", r"""
x_proj = _linear(x, weight_ih, bias_ih)
if bias_hh is not None:
    x_proj = x_proj + bias_hh
""", r"""
x_proj = _linear(x, weight_ih, None)
hidden = weight_hh.shape[1]
for b in (bias_ih, bias_hh):
    if b is not None:
        b = b.clone()
        b[hidden:2 * hidden] = 0
        x_proj = x_proj + b
""")
