# mutant: layer_norm adds eps to the standard deviation instead of the variance
# expect: eps
edit("layer_norm", "y = centered * torch.rsqrt(var + eps)", "y = centered / (torch.sqrt(var) + eps)")
