# mutant: lm_loss scores logits[:, i] against tokens[:, i] (no shift by one) and drops the last position
# expect: shift
edit("lm_loss", "targets = tokens[:, 1:].reshape(-1).to(torch.long)",
                "targets = tokens[:, :-1].reshape(-1).to(torch.long)")
