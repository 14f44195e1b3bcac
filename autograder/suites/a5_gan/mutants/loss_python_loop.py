# mutant: discriminator loss with a Python loop over the logits
# expect: vectorize
edit("discriminator_loss", r"""
return _softplus(-real_logits).mean() + _softplus(fake_logits).mean()
""", r"""
real = [_softplus(-v) for v in real_logits.flatten()]
fake = [_softplus(v) for v in fake_logits.flatten()]
return torch.stack(real).mean() + torch.stack(fake).mean()
""")
