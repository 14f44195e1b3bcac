# mutant: Discriminator copies the course notes' version: a BatchNorm2d after the first Conv2d (the paper has none there)
# expect: notes
edit("Discriminator", r"""
nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),                     # 64 -> 32
nn.LeakyReLU(0.2, inplace=True),
""", r"""
nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
nn.BatchNorm2d(ndf),
nn.LeakyReLU(0.2, inplace=True),
""")
