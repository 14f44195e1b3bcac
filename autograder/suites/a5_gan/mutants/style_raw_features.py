# mutant: style_loss compares the raw feature maps (a content loss) instead of their Gram matrices
# expect: Gram matrices (not the raw


def style_loss(gen_features, style_features, weights=None) -> torch.Tensor:
    if weights is None:
        weights = [1.0] * len(gen_features)
    total = gen_features[0].new_zeros(())
    for w, gen, style in zip(weights, gen_features, style_features):
        total = total + w * (gen - style).pow(2).mean()
    return total
