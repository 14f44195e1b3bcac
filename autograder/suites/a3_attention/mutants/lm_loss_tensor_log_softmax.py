# mutant: lm_loss calls Tensor.log_softmax (the forbidden op, reached through a method, not F.log_softmax)
# expect: log_softmax
edit("lm_loss", "nll = torch.logsumexp(scores, dim=-1) - scores.gather(1, safe_targets[:, None]).squeeze(1)", "nll = -scores.log_softmax(dim=-1).gather(1, safe_targets[:, None]).squeeze(1)")
