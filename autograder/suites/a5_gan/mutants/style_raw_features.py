# mutant: style_loss compares the raw feature maps (a content loss) instead of their Gram matrices
# expect: Gram matrices (not the raw
edit("style_loss", "total = total + w * (gram_matrix(gen) - gram_matrix(style)).pow(2).mean()",
                   "total = total + w * (gen - style).pow(2).mean()")
