# mutant: Grad-CAM channel weights sum the gradients instead of averaging them
# expect: average
edit("grad_cam", "alpha = grads.mean(dim=(2, 3), keepdim=True)",
                 "alpha = grads.sum(dim=(2, 3), keepdim=True)")
