# mutant: gram_matrix divides by H*W only (forgets the channel count in the C*H*W normalisation)
# expect: C*H*W
edit("gram_matrix", "return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)",
                    "return torch.bmm(f, f.transpose(1, 2)) / (h * w)")
