# mutant: ddim_sample steps from t to t - 1 instead of t - ratio (it visits the right timesteps but jumps wrongly)
# expect: t_prev
edit("ddim_sample", "x = ddim_step(eps, t, t - ratio, x, alphas_cumprod, eta=eta, noise=noise)",
                    "x = ddim_step(eps, t, t - 1, x, alphas_cumprod, eta=eta, noise=noise)")
