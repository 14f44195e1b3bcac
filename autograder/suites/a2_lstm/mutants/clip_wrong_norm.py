# mutant: total norm taken as the sum of the per-tensor 2-norms (ignores norm_type)
# expect: norm
import torch


@torch.no_grad()
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Scale ``grads`` in place so that their total norm is at most ``max_norm``;
    return the total norm before clipping."""
    grads = list(grads)
    norm_type = float(norm_type)
    if not grads:
        return torch.tensor(0.0)
    total = torch.stack([torch.linalg.vector_norm(g).to(grads[0].device) for g in grads]).sum()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(device=g.device, dtype=g.dtype))
    return total
