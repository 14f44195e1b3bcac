# mutant: diffusion loss regresses the model output onto x0 instead of the noise
# expect: noise
import torch.nn.functional as F


def diffusion_loss(model, x0, t, noise, alphas_cumprod):
    xt = q_sample(x0, t, noise, alphas_cumprod)
    return F.mse_loss(model(xt, t), x0)
