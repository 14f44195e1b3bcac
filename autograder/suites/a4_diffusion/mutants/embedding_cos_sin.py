# mutant: timestep embedding with cos first, then sin
# expect: sin
import math
import torch


def timestep_embedding(t, dim, max_period=10000):
    t = torch.as_tensor(t)
    dtype = t.dtype if t.dtype.is_floating_point else torch.get_default_dtype()
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64, device=t.device) / half)
    args = t.to(torch.float64).reshape(-1, 1) * freqs
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2:
        emb = torch.cat([emb, emb.new_zeros(emb.shape[0], 1)], dim=1)
    return emb.to(dtype)
