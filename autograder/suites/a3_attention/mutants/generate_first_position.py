# mutant: generate samples from the logits of the FIRST position, model(tokens)[:, 0], not the last
# expect: last
edit("generate", "logits = model(tokens)[:, -1, :]", "logits = model(tokens)[:, 0, :]")
