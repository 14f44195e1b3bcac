# mutant: scores not scaled by 1/sqrt(d_k)
# expect: sqrt
edit("scaled_dot_product_attention", "scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(d)",
                                     "scores = torch.matmul(q, k.transpose(-2, -1))")
