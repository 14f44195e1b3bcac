# mutant: Grad-CAM without the ReLU
# expect: ReLU
edit("grad_cam", r"""
if relu:
    cam = torch.relu(cam)
""", "")
