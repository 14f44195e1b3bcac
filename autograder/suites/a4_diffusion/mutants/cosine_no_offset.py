# mutant: cosine schedule without the offset s
# expect: cosine
edit("cosine_beta_schedule", "f = torch.cos((steps + s) / (1 + s) * (math.pi / 2)) ** 2",
                             "f = torch.cos(steps * (math.pi / 2)) ** 2")
