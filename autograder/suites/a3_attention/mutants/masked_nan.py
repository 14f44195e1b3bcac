# mutant: fully masked rows give NaN (masked_fill(-inf) then softmax, no special case)
# expect: masked
edit("scaled_dot_product_attention", r"""
scores = torch.where(any_allowed, scores, torch.zeros((), dtype=scores.dtype, device=scores.device))
""", "")
edit("scaled_dot_product_attention", r"""
weights = torch.where(any_allowed, weights, torch.zeros((), dtype=weights.dtype, device=weights.device))
""", "")
