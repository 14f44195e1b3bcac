# mutant: Discriminator ends with a Sigmoid (probabilities instead of logits)
# expect: logits
edit("Discriminator", r"""
    nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),                  # 4 -> 1: one logit
)
""", r"""
    nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
    nn.Sigmoid(),
)
""")
