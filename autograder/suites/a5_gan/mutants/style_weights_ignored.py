# mutant: style_loss ignores the per-layer weights
# expect: weight
edit("style_loss", "total = total + w * (gram_matrix(gen) - gram_matrix(style)).pow(2).mean()",
                   "total = total + (gram_matrix(gen) - gram_matrix(style)).pow(2).mean()")
