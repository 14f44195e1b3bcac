# mutant: lstm_forward runs a Python loop over batch items (one sequence at a time)
# expect: vectorize


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    outputs, h_last, c_last = [], [], []
    for b in range(x.shape[1]):                      # the mistake: one sequence at a time
        h, c = h0[b:b + 1], c0[b:b + 1]
        steps = []
        for t in range(x.shape[0]):
            h, c = lstm_cell(x[t, b:b + 1], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
            steps.append(h)
        outputs.append(torch.cat(steps, dim=0))
        h_last.append(h)
        c_last.append(c)
    return torch.stack(outputs, dim=1), (torch.cat(h_last, dim=0), torch.cat(c_last, dim=0))
