# mutant: batch_norm2d updates running_var with the biased batch variance (the one it normalises with)
# expect: unbiased
edit("batch_norm2d", "running_var.mul_(1 - momentum).add_(var.detach() * (n / (n - 1)), alpha=momentum)", "running_var.mul_(1 - momentum).add_(var.detach(), alpha=momentum)")
