# mutant: positional encoding with cos in the even and sin in the odd columns
# expect: positional
import torch


def sinusoidal_positional_encoding(length, d_model):
    """(length, d_model) float32: PE[pos, 2i] = sin(pos w_i), PE[pos, 2i+1] = cos(pos w_i)."""
    dtype = torch.get_default_dtype()
    pos = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    freqs = torch.pow(10000.0, -two_i / d_model)
    angles = pos * freqs                                   # (length, ceil(d/2))
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.cos(angles)
    pe[:, 1::2] = torch.sin(angles[:, : d_model // 2])
    return pe.to(dtype)
