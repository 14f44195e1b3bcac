# mutant: LSGAN discriminator targets swapped (real -> 0, fake -> 1)
# expect: LSGAN
edit("lsgan_discriminator_loss", "return 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out ** 2).mean()", "return 0.5 * (real_out ** 2).mean() + 0.5 * ((fake_out - 1) ** 2).mean()")
