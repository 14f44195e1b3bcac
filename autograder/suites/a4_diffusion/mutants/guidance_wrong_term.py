# mutant: classifier-free guidance starts from the conditional prediction
# expect: guidance


def classifier_free_guidance(eps_uncond, eps_cond, scale):
    return eps_cond + scale * (eps_cond - eps_uncond)
