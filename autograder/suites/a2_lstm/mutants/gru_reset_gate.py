# mutant: GRU reset gate applied to h before the matmul (W_hn (r * h)) instead of to (W_hn h + b_hn)
# expect: reset gate
edit("gru_cell", r"""
n = torch.tanh(i_n + r * h_n)
""", r"""
w_hn = weight_hh[2 * h.shape[-1]:]
b_hn = 0 if bias_hh is None else bias_hh[2 * h.shape[-1]:]
n = torch.tanh(i_n + (r * h) @ w_hn.transpose(0, 1) + b_hn)
""")
