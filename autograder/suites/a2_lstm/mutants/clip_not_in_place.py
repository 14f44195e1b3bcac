# mutant: clipping builds scaled copies instead of scaling the gradients in place
# expect: in place
edit("clip_grad_norm", r"""
for g in grads:
    g.mul_(coef.to(device=g.device, dtype=g.dtype))
""", r"""
grads = [g * coef.to(device=g.device, dtype=g.dtype) for g in grads]
""")
