# mutant: posterior variance beta_t instead of beta_tilde_t (posterior and DDPM step)
# expect: posterior variance
edit("_posterior_coefficients", "variance = betas * (1 - abar_prev) / (1 - abar)",
                                "variance = betas.clone()")
