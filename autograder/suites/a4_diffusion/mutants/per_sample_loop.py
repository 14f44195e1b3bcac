# mutant: correct values, but q_sample and ddpm_step loop over the batch in Python
# expect: vectorize
edit("q_sample", r"""
return _gather(abar.sqrt(), t, x0) * x0 + _gather((1 - abar).sqrt(), t, x0) * noise
""", r"""
out = torch.empty_like(x0)
for b in range(x0.shape[0]):
    tb = int(t[b])
    out[b] = _gather(abar.sqrt(), tb, x0) * x0[b] + _gather((1 - abar).sqrt(), tb, x0) * noise[b]
return out
""")
edit("ddpm_step", r"""
return mean + _gather(variance.sqrt(), t, xt) * noise
""", r"""
out = torch.empty_like(xt)
sd = _gather(variance.sqrt(), t, xt)
for b in range(xt.shape[0]):
    out[b] = mean[b] + sd * noise[b]
return out
""")
