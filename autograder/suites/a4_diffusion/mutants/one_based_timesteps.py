# mutant: timesteps treated as 1-based: abar looked up at t - 1 in q_sample
# expect: 0-based
edit("q_sample", r"""
abar = alphas_cumprod.to(torch.float64)
""", r"""
abar = alphas_cumprod.to(torch.float64)
t = t - 1      # "timestep t means the t-th step", as in the paper's 1..T
""")
