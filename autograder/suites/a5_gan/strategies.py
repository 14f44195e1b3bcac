"""Hypothesis composites for the a5_gan suite: logit tensors of a drawn shape, dtype,
scale and seed.  Hypothesis draws only sizes, scales and seeds; the tensors come from
shared.strategies.randn (one seeded torch.Generator each)."""
from __future__ import annotations

from hypothesis import strategies as st

from shared.strategies import float_dtypes, seeds

# logits of ordinary size and of the size a confident discriminator produces
SCALES = (0.5, 3.0, 30.0)

logit_shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)
image_shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5))
scales = st.sampled_from(SCALES)


@st.composite
def logit_cases(draw):
    """(seed, dtype, real_shape, fake_shape, scale): real and fake may differ in shape."""
    return (draw(seeds), draw(float_dtypes), draw(logit_shapes), draw(logit_shapes), draw(scales))


@st.composite
def gaussian_cases(draw):
    """(seed, dtype, batch, features) for the VAE functions."""
    return draw(seeds), draw(float_dtypes), draw(st.integers(1, 6)), draw(st.integers(1, 12))
