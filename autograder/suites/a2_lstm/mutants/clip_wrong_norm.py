# mutant: total norm taken as the sum of the per-tensor 2-norms (ignores norm_type)
# expect: norm
edit("clip_grad_norm", r"""
norms = torch.stack([torch.linalg.vector_norm(g, norm_type).to(grads[0].device) for g in grads])
total = torch.linalg.vector_norm(norms, norm_type)
""", r"""
total = torch.stack([torch.linalg.vector_norm(g).to(grads[0].device) for g in grads]).sum()
""")
