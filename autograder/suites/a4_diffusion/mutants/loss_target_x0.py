# mutant: diffusion loss regresses the model output onto x0 instead of the noise
# expect: noise
edit("diffusion_loss", "return F.mse_loss(model(xt, t), noise)",
                       "return F.mse_loss(model(xt, t), x0)")
