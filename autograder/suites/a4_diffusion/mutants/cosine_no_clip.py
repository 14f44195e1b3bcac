# mutant: cosine schedule without the max_beta clip
# expect: cosine
edit("cosine_beta_schedule", "return betas.clamp(max=max_beta)", "return betas")
