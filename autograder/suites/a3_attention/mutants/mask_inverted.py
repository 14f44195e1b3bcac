# mutant: mask convention inverted (True treated as 'masked', like nn.MultiheadAttention)
# expect: mask
edit("_allowed", "return mask if mask.dtype == torch.bool else mask != 0",
                 "return ~mask if mask.dtype == torch.bool else mask == 0")
