# mutant: clipping builds scaled copies instead of scaling the gradients in place
# expect: in place
import torch


@torch.no_grad()
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Scale ``grads`` in place so that their total norm is at most ``max_norm``;
    return the total norm before clipping."""
    grads = list(grads)
    norm_type = float(norm_type)
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type).to(grads[0].device) for g in grads])
    total = torch.linalg.vector_norm(norms, norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    grads = [g * coef.to(device=g.device, dtype=g.dtype) for g in grads]
    return total
