# mutant: Discriminator.forward loops over the images of the batch
# expect: vectorize
edit("Discriminator", "return self.main(x).view(-1)",
                      "return torch.cat([self.main(x[i:i + 1]).view(-1) for i in range(x.shape[0])])")
