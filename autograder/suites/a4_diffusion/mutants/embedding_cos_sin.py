# mutant: timestep embedding with cos first, then sin
# expect: sin
edit("timestep_embedding", "emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)",
                           "emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)")
