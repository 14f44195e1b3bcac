# mutant: tanh on the gates i, f, o and sigmoid on the candidate g (activations swapped)
# expect: sigmoid
edit("lstm_cell", r"""
i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
g = torch.tanh(g)
""", r"""
i, f, o = torch.tanh(i), torch.tanh(f), torch.tanh(o)
g = torch.sigmoid(g)
""")

edit("lstm_forward", r"""
c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
h = torch.sigmoid(o) * torch.tanh(c)
""", r"""
c = torch.tanh(f) * c + torch.tanh(i) * torch.sigmoid(g)
h = torch.tanh(o) * torch.tanh(c)
""")
