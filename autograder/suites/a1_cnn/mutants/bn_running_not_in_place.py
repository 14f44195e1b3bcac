# mutant: batch_norm2d computes the new running statistics but rebinds the local names instead of updating the caller's tensors in place
# expect: in place
edit("batch_norm2d", "running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)",
                     "running_mean = (1 - momentum) * running_mean + momentum * mean.detach()")
edit("batch_norm2d", "running_var.mul_(1 - momentum).add_(var.detach() * (n / (n - 1)), alpha=momentum)",
                     "running_var = (1 - momentum) * running_var + momentum * var.detach() * (n / (n - 1))")
