# mutant: reparameterize uses logvar as the standard deviation
# expect: reparameterization
edit("reparameterize", "return mu + torch.exp(0.5 * logvar) * noise", "return mu + logvar * noise")
