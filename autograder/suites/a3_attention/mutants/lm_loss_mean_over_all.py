# mutant: lm_loss zeroes the ignored targets but still divides by every position, B * (L - 1)
# expect: ignore_index
edit("lm_loss", "return nll.sum() / counted.sum()", "return nll.mean()")
