# mutant: KL term with the wrong sign
# expect: KL
edit("gaussian_kl", "kl = -0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar))",
                    "kl = 0.5 * (1 + logvar - mu ** 2 - torch.exp(logvar))")
