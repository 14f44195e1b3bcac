# mutant: style_loss sums the squared Gram differences instead of averaging them
# expect: mean over all elements


def style_loss(gen_features, style_features, weights=None) -> torch.Tensor:
    if weights is None:
        weights = [1.0] * len(gen_features)
    total = gen_features[0].new_zeros(())
    for w, gen, style in zip(weights, gen_features, style_features):
        total = total + w * (gram_matrix(gen) - gram_matrix(style)).pow(2).sum()
    return total
