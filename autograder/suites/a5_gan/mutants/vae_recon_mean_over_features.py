# mutant: vae_loss averages the reconstruction term over the features too (mean over every element instead of sum per sample)
# expect: summed over the features
edit("vae_loss", "recon = nll.flatten(1).sum(1).mean()", "recon = nll.mean()")
