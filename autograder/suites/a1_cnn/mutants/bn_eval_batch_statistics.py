# mutant: batch_norm2d ignores training=False and always normalises with the batch statistics (but leaves the running ones alone in eval)
# expect: training=False
edit("batch_norm2d", "mean, var = running_mean, running_var", "var, mean = torch.var_mean(x, dim=dims, correction=0)")
