# mutant: gram_matrix flattens the batch into the channels (the single-image tutorial's view(b*c, h*w)), so samples mix
# expect: samples never mixed
edit("gram_matrix", "f = features.reshape(b, c, h * w)", "f = features.view(b * c, h * w)")
edit("gram_matrix", "return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)",
                    "return torch.mm(f, f.t()) / (b * c * h * w)")
