# mutant: style_loss ignores the per-layer weights
# expect: weight


def style_loss(gen_features, style_features, weights=None) -> torch.Tensor:
    total = gen_features[0].new_zeros(())
    for gen, style in zip(gen_features, style_features):
        total = total + (gram_matrix(gen) - gram_matrix(style)).pow(2).mean()
    return total
