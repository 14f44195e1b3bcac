# mutant: classifier-free guidance starts from the conditional prediction
# expect: guidance
edit("classifier_free_guidance", "return eps_uncond + scale * (eps_cond - eps_uncond)",
                                 "return eps_cond + scale * (eps_cond - eps_uncond)")
