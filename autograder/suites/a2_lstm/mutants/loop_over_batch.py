# mutant: lstm_forward runs a Python loop over batch items (one sequence at a time)
# expect: vectorize
edit("lstm_forward", r"""
T = x.shape[0]
""", r"""
T = x.shape[0]
if x.shape[1] > 1:                       # the mistake: each sequence on its own, in a Python loop
    runs = [lstm_forward(x[:, b:b + 1], h0[b:b + 1], c0[b:b + 1], weight_ih, weight_hh, bias_ih, bias_hh)
            for b in range(x.shape[1])]
    return (torch.cat([out for out, _ in runs], dim=1),
            (torch.cat([h for _, (h, _) in runs]), torch.cat([c for _, (_, c) in runs])))
""")
