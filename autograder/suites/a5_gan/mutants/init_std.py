# mutant: DCGAN init with std 0.2 instead of 0.02
# expect: 0.02
edit("dcgan_init_", "nn.init.normal_(m.weight, 0.0, 0.02)", "nn.init.normal_(m.weight, 0.0, 0.2)")
