# mutant: Discriminator applies torch.sigmoid in forward (no Sigmoid module to see)
# expect: logits
edit("Discriminator", "return self.main(x).view(-1)", "return torch.sigmoid(self.main(x)).view(-1)")
