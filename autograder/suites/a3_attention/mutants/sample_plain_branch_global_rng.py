# mutant: sample_next_token passes the generator only when top-k / top-p filter; plain temperature sampling uses the global RNG
# expect: generator
edit("sample_next_token", r"""
scores = logits.detach().to(torch.float64) / temperature
V = scores.shape[-1]
""", r"""
scores = logits.detach().to(torch.float64) / temperature
if top_k is None and top_p is None:
    probs = torch.softmax(scores, dim=-1).to("cpu")
    return torch.multinomial(probs, 1).squeeze(-1).to(logits.device)
V = scores.shape[-1]
""")
