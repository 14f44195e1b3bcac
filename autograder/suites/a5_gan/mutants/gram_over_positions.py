# mutant: gram_matrix multiplies F^T F (positions against positions) instead of F F^T (channels against channels)
# expect: channels against channels
edit("gram_matrix", "return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)",
                    "return torch.bmm(f.transpose(1, 2), f) / (c * h * w)")
