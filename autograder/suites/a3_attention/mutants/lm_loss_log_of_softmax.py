# mutant: lm_loss takes log(softmax(z)): -inf / NaN once a probability underflows (logits of 1e4)
# expect: logsumexp
edit("lm_loss", r"""
nll = torch.logsumexp(scores, dim=-1) - scores.gather(1, safe_targets[:, None]).squeeze(1)
""", r"""
log_probs = torch.log(torch.softmax(scores, dim=-1))
nll = -log_probs.gather(1, safe_targets[:, None]).squeeze(1)
""")
