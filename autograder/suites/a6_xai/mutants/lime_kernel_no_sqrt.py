# mutant: LIME kernel exp(-d^2/w^2) without the square root
# expect: kernel
edit("lime_fit", "w = np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))",
                 "w = np.exp(-(d ** 2) / kernel_width ** 2)")
