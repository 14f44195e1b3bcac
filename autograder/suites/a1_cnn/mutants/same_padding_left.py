# mutant: conv2d 'same' padding puts the odd extra pixel on the left/top
# expect: same


def _same_padding(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int, int, int]:
    # torch pads d*(k-1) in total and puts the odd pixel on the right/bottom
    (kh, kw), (dh, dw) = kernel, dilation
    th, tw = dh * (kh - 1), dw * (kw - 1)
    return (tw - tw // 2, tw // 2, th - th // 2, th // 2)     # F.pad order: left, right, top, bottom
