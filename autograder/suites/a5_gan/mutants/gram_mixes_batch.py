# mutant: gram_matrix flattens the batch into the channels (the single-image tutorial's view(b*c, h*w)), so samples mix
# expect: samples never mixed


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    b, c, h, w = features.shape
    f = features.view(b * c, h * w)
    return torch.mm(f, f.t()) / (b * c * h * w)
