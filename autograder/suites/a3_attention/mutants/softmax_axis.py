# mutant: softmax over the query axis instead of the key axis
# expect: softmax
edit("scaled_dot_product_attention", r"""
if mask is None:
    weights = torch.softmax(scores, dim=-1)
else:
""", r"""
if mask is None:
    weights = torch.softmax(scores, dim=-2)
else:
""")
edit("scaled_dot_product_attention", "weights = torch.softmax(scores, dim=-1)",
                                     "weights = torch.softmax(scores, dim=-2)")
