# mutant: noise added at t = 0 too, with abar_{t-1} taken as abar[t - 1] (wraps to abar[T-1])
# expect: t = 0
edit("ddpm_step", r"""
if t == 0:
    return mean
""", "")
edit("ddpm_step", r"""
return mean + _gather(variance.sqrt(), t, xt) * noise
""", r"""
var = float(betas[t]) * (1 - float(abar[t - 1])) / (1 - float(abar[t]))   # at t = 0, abar[t - 1] wraps to abar[T-1]
return mean + math.sqrt(var) * noise
""")
