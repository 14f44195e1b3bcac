# mutant: centered=True ignored: ICE curves are not centred
# expect: centered
edit("partial_dependence", r"""
if centered:
    ice = ice - ice[:, :1]
""", "")
