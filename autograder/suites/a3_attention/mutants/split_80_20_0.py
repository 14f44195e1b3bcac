# mutant: BERT split 80/20/0: the 10% 'unchanged' share is replaced by random ids
# expect: 80/10/10
edit("mask_tokens", "to_random = chosen & (split >= 0.8) & (split < 0.9)",
                    "to_random = chosen & (split >= 0.8)")
