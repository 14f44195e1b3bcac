# mutant: GAN losses as log(sigmoid(x)) / log(1 - sigmoid(x)): log(0) at large logits
# expect: stable
edit("discriminator_loss", "return _softplus(-real_logits).mean() + _softplus(fake_logits).mean()",
     "return (-torch.log(torch.sigmoid(real_logits))).mean() + (-torch.log(1 - torch.sigmoid(fake_logits))).mean()")
edit("generator_loss", "return -_softplus(fake_logits).mean()",
                       "return torch.log(1 - torch.sigmoid(fake_logits)).mean()")
edit("generator_loss", "return _softplus(-fake_logits).mean()",
                       "return -torch.log(torch.sigmoid(fake_logits)).mean()")
