# mutant: lm_loss loops over the positions in Python
# expect: vectorize
edit("lm_loss", r"""
nll = torch.logsumexp(scores, dim=-1) - scores.gather(1, safe_targets[:, None]).squeeze(1)
""", r"""
rows, cols = scores.view(logits.shape[0], -1, V), safe_targets.view(logits.shape[0], -1)   # (B, L-1, V), (B, L-1)
nll = torch.stack([torch.logsumexp(rows[:, i], dim=-1) - rows[:, i].gather(1, cols[:, i, None]).squeeze(1)
                   for i in range(rows.shape[1])], dim=1).reshape(-1)                       # one position at a time
""")
