# mutant: bias_hh is never added to the gate pre-activations
# expect: bias
edit("lstm_cell", "gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, bias_hh)",
                  "gates = _linear(x, weight_ih, bias_ih) + _linear(h, weight_hh, None)")

edit("lstm_forward", r"""
if bias_hh is not None:
    x_proj = x_proj + bias_hh
""", "")

edit("gru_cell", "gh = _linear(h, weight_hh, bias_hh)", "gh = _linear(h, weight_hh, None)")
