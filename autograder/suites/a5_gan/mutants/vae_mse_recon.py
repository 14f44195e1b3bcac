# mutant: vae_loss follows the notes' MSE reconstruction (squared error of sigmoid(logits) against x) instead of the Bernoulli NLL
# expect: Bernoulli
edit("vae_loss", "nll = _softplus(recon_logits) - x * recon_logits",
                 "nll = (torch.sigmoid(recon_logits) - x) ** 2")
