# mutant: vae_loss puts beta on the reconstruction term (beta * recon + kl)
# expect: beta weights only the KL
edit("vae_loss", "return recon + beta * kl, recon, kl", "return beta * recon + kl, recon, kl")
