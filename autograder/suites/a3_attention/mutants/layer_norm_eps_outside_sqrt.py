# mutant: layer_norm adds eps to the standard deviation instead of the variance
# expect: eps


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = tuple(range(-len(normalized_shape), 0))
    mean = x.mean(dim=dims, keepdim=True)
    centered = x - mean
    std = torch.sqrt((centered * centered).mean(dim=dims, keepdim=True))
    y = centered / (std + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
