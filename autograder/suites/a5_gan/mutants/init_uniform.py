# mutant: DCGAN init from a uniform distribution U(-0.02*sqrt(3), 0.02*sqrt(3)) (right std, wrong law)
# expect: init
edit("dcgan_init_", "nn.init.normal_(m.weight, 0.0, 0.02)",
                    "nn.init.uniform_(m.weight, -0.02 * 3 ** 0.5, 0.02 * 3 ** 0.5)")
