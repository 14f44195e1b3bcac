# mutant: multi_head_attention uses nn.MultiheadAttention's mask convention (True = blocked)
# expect: mask
edit("multi_head_attention", "mask = mask.unsqueeze(-3)", "mask = ~mask.bool().unsqueeze(-3)")
