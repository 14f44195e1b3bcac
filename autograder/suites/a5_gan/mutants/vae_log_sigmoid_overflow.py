# mutant: vae_loss writes the Bernoulli NLL with log(sigmoid(l)) and log(1 - sigmoid(l)) (inf / NaN at large logits)
# expect: stable
edit("vae_loss", r"""
nll = _softplus(recon_logits) - x * recon_logits
""", r"""
p = torch.sigmoid(recon_logits)
nll = -(x * torch.log(p) + (1 - x) * torch.log(1 - p))
""")
