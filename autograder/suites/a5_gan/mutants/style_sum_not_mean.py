# mutant: style_loss sums the squared Gram differences instead of averaging them
# expect: mean over all elements
edit("style_loss", "total = total + w * (gram_matrix(gen) - gram_matrix(style)).pow(2).mean()",
                   "total = total + w * (gram_matrix(gen) - gram_matrix(style)).pow(2).sum()")
