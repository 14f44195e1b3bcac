# mutant: batch_norm2d uses Keras' momentum convention (running = momentum * running + (1 - momentum) * batch)
# expect: momentum
edit("batch_norm2d", "running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)",
                     "running_mean.mul_(momentum).add_(mean.detach(), alpha=1 - momentum)")
edit("batch_norm2d", "running_var.mul_(1 - momentum).add_(var.detach() * (n / (n - 1)), alpha=momentum)",
                     "running_var.mul_(momentum).add_(var.detach() * (n / (n - 1)), alpha=1 - momentum)")
