# mutant: top-p drops the token that crosses the threshold (keeps cumsum < top_p)
# expect: top-p
edit("sample_next_token", "drop_sorted = mass_before >= top_p",
                          "drop_sorted = torch.cumsum(sorted_probs, dim=-1) >= top_p")
