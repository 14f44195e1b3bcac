# mutant: correct values, but q_sample and ddpm_step loop over the batch in Python
# expect: vectorize
edit("ddpm_step", "x0 = predict_x0_from_eps(xt, torch.full((xt.shape[0],), t, dtype=torch.long, device=xt.device), eps, abar)", "x0 = predict_x0_from_eps(xt, t, eps, abar)")
edit("ddpm_step", r"""
if noise is None:
    noise = torch.randn_like(xt)
return mean + _gather(variance.sqrt(), t, xt) * noise
""", r"""
out = torch.empty_like(xt)
sd = variance[t].sqrt()
for b in range(xt.shape[0]):
    out[b] = mean[b] + sd * noise[b]
return out
""")


def q_sample(x0, t, noise, alphas_cumprod):
    out = torch.empty_like(x0)
    for b in range(x0.shape[0]):
        a = alphas_cumprod[int(t[b])]
        out[b] = torch.sqrt(a) * x0[b] + torch.sqrt(1 - a) * noise[b]
    return out
