"""The concept hints of a4_diffusion's feedback, one copy for the public tests (which ship to
students) and the hidden suites: a mismatch is explained in the same words wherever it is found."""
from shared.i18n import N_

LINEAR_HINT = (N_("the linear schedule has T values from beta_start (t = 0) to beta_end (t = T-1), both included, "
                  "equally spaced, as a float64 tensor (0-based timesteps)"))
COSINE_HINT = (N_("cosine schedule: f(u) = cos^2((u + s) / (1 + s) * pi / 2), beta_t = min(1 - f((t+1)/T) / "
                  "f(t/T), max_beta) for t = 0..T-1, float64; keep the offset s and the max_beta clip"))
ABAR_HINT = N_("abar_t = prod_{s=0..t} (1 - beta_s): a cumulative product that includes step t (0-based)")
Q_HINT = (N_("x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise, with abar looked up at each sample's 0-based "
             "timestep t and reshaped to (B, 1, ..., 1) so it broadcasts over inputs of any rank"))
POST_HINT = (N_("posterior q(x_{t-1} | x_t, x_0) (DDPM eq. 7): mean = sqrt(abar_{t-1}) beta_t / (1 - abar_t) * x0 "
                "+ sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) * x_t; posterior variance beta_tilde_t = (1 - "
                "abar_{t-1}) / (1 - abar_t) * beta_t shaped (B, 1, ..., 1); abar_{-1} = 1 at t = 0 (0-based)"))
X0_HINT = N_("x0_hat = (x_t - sqrt(1 - abar_t) * eps) / sqrt(abar_t) inverts q_sample (0-based t, broadcast per "
             "sample)")
DDPM_HINT = (N_("DDPM step: x0_hat from eps, then the posterior mean of q(x_{t-1} | x_t, x0_hat) plus "
                "sqrt(beta_tilde_t) * noise, where the posterior variance is beta_tilde_t = (1 - abar_{t-1}) / (1 "
                "- abar_t) * beta_t (fixed_small); no clipping of x0_hat; no noise at the final step (t = 0)"))
FINAL_HINT = (N_("at the final step (t = 0) no noise is added: x_{-1} is the posterior mean, which equals x0_hat "
                 "because abar_{-1} = 1"))
LOSS_HINT = (N_("epsilon-prediction loss: x_t = q_sample(x0, t, noise), then mean((noise - model(x_t, t))^2) over "
                "all elements: the target is the noise, the model is called as model(x_t, t)"))
ETA0_HINT = (N_("with eta = 0 DDIM is deterministic: sigma = 0, the noise is ignored and x_prev = sqrt(a_prev) "
                "x0_hat + sqrt(1 - a_prev) eps"))
TPREV_HINT = N_("t_prev < 0 means the clean data: use a_prev = 1 (do not index alphas_cumprod with a negative t_prev)")
CFG_HINT = (N_("classifier-free guidance: eps = eps_uncond + scale * (eps_cond - eps_uncond); start from the "
               "unconditional prediction, so scale 0 gives eps_uncond and scale 1 gives eps_cond"))
EMB_HINT = (N_("timestep embedding: half = dim // 2, freqs = exp(-ln(max_period) * arange(half) / half), [sin(t * "
               "freqs), cos(t * freqs)] (sin first), then one zero column when dim is odd; float t keeps its "
               "dtype, integer t gives float32"))
DDPM_SAMPLE_HINT = (N_("DDPM sampling: x = torch.randn(shape, generator=generator, dtype=dtype) (x_T); then for t "
                       "= T-1, T-2, ..., 0 (every step, down to and including t = 0): eps = model(x, "
                       "torch.full((B,), t)); noise = torch.randn(shape, generator=generator, dtype=dtype) when t "
                       "> 0 (zeros at t = 0, nothing drawn); x = ddpm_step(eps, t, x, betas, noise)"))
TIMESTEP_HINT = (N_("call the model once per step with the 0-based timestep as a LongTensor (B,), torch.full((B,), "
                    "t): DDPM visits t = T-1, T-2, ..., 0"))
DDIM_SAMPLE_HINT = (N_("DDIM sampling: ratio = T // num_steps; leading timesteps (num_steps-1)*ratio, ..., ratio, "
                       "0; x = torch.randn(shape, generator=generator, dtype=dtype); per step eps = model(x, "
                       "torch.full((B,), t)), noise = torch.randn(shape, generator=generator, dtype=dtype) only "
                       "when eta > 0, x = ddim_step(eps, t, t_prev = t - ratio, x, alphas_cumprod, eta, noise)"))
LEADING_HINT = (N_("leading spacing (diffusers' timestep_spacing='leading'): ratio = T // num_steps and the "
                   "timesteps are (num_steps-1)*ratio, ..., 2*ratio, ratio, 0, i.e. they start at "
                   "(num_steps-1)*ratio, not at T-1, and always end at 0"))
