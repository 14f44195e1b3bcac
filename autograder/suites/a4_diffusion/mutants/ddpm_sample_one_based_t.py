# mutant: ddpm_sample gives the model 1-based timesteps (t + 1), as the DDPM paper counts
# expect: 0-based
edit("ddpm_sample", "eps = model(x, torch.full((shape[0],), t, dtype=torch.long))",
                    "eps = model(x, torch.full((shape[0],), t + 1, dtype=torch.long).clamp(max=T - 1))")
