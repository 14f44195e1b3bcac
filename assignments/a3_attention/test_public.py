"""Public tests for a3_attention.  Run them with

    python grade.py check a3_attention a3_attention.py
    python -m pytest test_public.py -k scaled_dot_product_attention     # one function's checks

They are small examples; the hidden suite checks many more shapes and masks,
gradients, fully masked rows, forbidden APIs, randomness statistics and speed
(see README.md, "How you are graded").
"""
import math

import pytest
import torch
import torch.nn.functional as F

from shared.compare import assert_close, assert_true
from shared.strategies import generator, randint, randn
from shared.i18n import N_

pytestmark = pytest.mark.visibility("visible")


# ---- 1.1 scaled_dot_product_attention ---------------------------------------------------------

@pytest.mark.task("1.1")
@pytest.mark.points(0)
def test_scaled_dot_product_attention_hand_example(student):
    """1.1 scaled_dot_product_attention on the handout's example"""
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = torch.tensor([[1.0], [3.0]])
    out, weights = student.scaled_dot_product_attention(q, k, v)
    w0 = math.exp(1 / math.sqrt(2)) / (math.exp(1 / math.sqrt(2)) + 1)
    assert_close(weights, torch.tensor([[w0, 1 - w0]]), name=N_("attention weights"),
                 hint=N_("weights = softmax(q k^T / sqrt(d_k)) over the keys"))
    assert_close(out, torch.tensor([[w0 * 1 + (1 - w0) * 3]]), name=N_("attention output"),
                 hint=N_("output = weights @ v"))


@pytest.mark.task("1.1")
@pytest.mark.points(0)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scaled_dot_product_attention_matches_torch(student, dtype):
    """1.1 scaled_dot_product_attention equals F.scaled_dot_product_attention (batch and heads)"""
    q, k, v = randn((2, 3, 4, 8), 0, dtype), randn((2, 3, 5, 8), 1, dtype), randn((2, 3, 5, 6), 2, dtype)
    out, weights = student.scaled_dot_product_attention(q, k, v)
    assert_close(out, F.scaled_dot_product_attention(q, k, v), name=N_("attention output"),
                 hint=N_("softmax(q k^T / sqrt(d_k)) v, batched over the leading dims"))
    assert_close(weights.sum(-1), torch.ones(2, 3, 4, dtype=dtype), name=N_("sum of each weights row"),
                 hint=N_("the softmax runs over the key axis (the last one)"))


@pytest.mark.task("1.1")
@pytest.mark.points(0)
def test_scaled_dot_product_attention_mask(student):
    """1.1 scaled_dot_product_attention with a bool mask and the same mask as 0/1"""
    q, k, v = randn((2, 4, 8), 3), randn((2, 5, 8), 4), randn((2, 5, 3), 5)
    mask = torch.tensor([[1, 0, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1], [1, 1, 0, 0, 1]]).bool()
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    for given in (mask, mask.long()):
        out, weights = student.scaled_dot_product_attention(q, k, v, given)
        assert_close(out, expected, name=N_("masked attention output"),
                     hint=N_("True/1 = may attend: masked scores become -inf before the softmax"))
        assert_true(bool((weights[:, ~mask] == 0).all()),
                    N_("your attention weights are not zero where the mask is False/0."))


@pytest.mark.task("1.1")
@pytest.mark.points(0)
def test_scaled_dot_product_attention_fully_masked_row(student):
    """1.1 scaled_dot_product_attention: a fully masked row gives zeros, not NaN"""
    q, k, v = randn((3, 4), 6), randn((5, 4), 7), randn((5, 2), 8)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    out, weights = student.scaled_dot_product_attention(q, k, v, mask)
    assert_true(not torch.isnan(out).any() and not torch.isnan(weights).any(),
                N_("your output or weights contain NaN for a fully masked row."),
                N_("a row with nothing to attend gives zero weights and a zero output"))
    assert_close(out[1], torch.zeros(2, dtype=torch.float64), name=N_("output of the fully masked row"))
    assert_close(weights[1], torch.zeros(5, dtype=torch.float64), name=N_("weights of the fully masked row"))


# ---- 1.2 causal_mask --------------------------------------------------------------------------

@pytest.mark.task("1.2")
@pytest.mark.points(0)
def test_causal_mask_examples(student):
    """1.2 causal_mask on small examples (square and Lq != Lk)"""
    assert_close(student.causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]]).bool(),
                 name="causal_mask(3)", hint=N_("mask[i, j] = (j <= i), dtype torch.bool"))
    assert_close(student.causal_mask(2, 4), torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0]]).bool(),
                 name="causal_mask(2, 4)", hint=N_("top-left aligned: row i may attend keys 0..i"))


# ---- 2.1 multi_head_attention -----------------------------------------------------------------

def _module(embed_dim, heads, seed):
    torch.manual_seed(seed)
    return torch.nn.MultiheadAttention(embed_dim, heads, batch_first=True).double()


@pytest.mark.task("2.1")
@pytest.mark.points(0)
def test_multi_head_attention_matches_torch(student):
    """2.1 multi_head_attention equals nn.MultiheadAttention (self-attention, no mask)"""
    mha = _module(8, 2, 0)
    x = randn((3, 5, 8), 9)
    with torch.no_grad():
        expected = mha(x, x, x)
    out, weights = student.multi_head_attention(x, x, x, 2, mha.in_proj_weight.detach(), mha.in_proj_bias.detach(),
                                                mha.out_proj.weight.detach(), mha.out_proj.bias.detach())
    assert_close(out, expected[0], name=N_("multi-head attention output"),
                 hint=N_("in_proj_weight stacks [W_q; W_k; W_v]; split E into heads, attend, merge, out_proj"))
    assert_close(weights, expected[1], name=N_("attention weights averaged over heads"))


@pytest.mark.task("2.1")
@pytest.mark.points(0)
def test_multi_head_attention_mask(student):
    """2.1 multi_head_attention with a causal keep-mask (torch's attn_mask is its negation)"""
    mha = _module(12, 3, 1)
    q, kv = randn((2, 4, 12), 10), randn((2, 6, 12), 11)
    keep = torch.ones(4, 6, dtype=torch.bool).tril()
    with torch.no_grad():
        expected = mha(q, kv, kv, attn_mask=~keep)
    out, weights = student.multi_head_attention(q, kv, kv, 3, mha.in_proj_weight.detach(), mha.in_proj_bias.detach(),
                                                mha.out_proj.weight.detach(), mha.out_proj.bias.detach(), mask=keep)
    assert_close(out, expected[0], name=N_("masked multi-head attention output"),
                 hint=N_("here True = may attend; nn.MultiheadAttention's attn_mask uses True = blocked"))
    assert_close(weights, expected[1], name=N_("masked attention weights"))


# ---- 2.2 sinusoidal_positional_encoding -------------------------------------------------------

@pytest.mark.task("2.2")
@pytest.mark.points(0)
def test_sinusoidal_positional_encoding_example(student):
    """2.2 sinusoidal_positional_encoding on the handout's example (odd d_model)"""
    w = 10000 ** (-2 / 3)
    expected = torch.tensor([[0.0, 1.0, 0.0], [math.sin(1), math.cos(1), math.sin(w)]])
    assert_close(student.sinusoidal_positional_encoding(2, 3), expected, name=N_("positional encoding"),
                 hint=N_("even columns sin(pos * 10000^(-2i/d_model)), odd columns cos(...), i = column // 2"))


@pytest.mark.task("2.2")
@pytest.mark.points(0)
def test_sinusoidal_positional_encoding_shape(student):
    """2.2 sinusoidal_positional_encoding has shape (length, d_model), float32, values in [-1, 1]"""
    pe = student.sinusoidal_positional_encoding(50, 16)
    assert_true(isinstance(pe, torch.Tensor) and tuple(pe.shape) == (50, 16) and pe.dtype == torch.float32,
                N_("your positional encoding must be a float32 tensor of shape (length, d_model)."))
    assert_true(bool((pe.abs() <= 1).all()), N_("positional encoding values must lie in [-1, 1]."))


# ---- 2.3 layer_norm ---------------------------------------------------------------------------

@pytest.mark.task("2.3")
@pytest.mark.points(0)
def test_layer_norm_matches_torch(student):
    """2.3 layer_norm equals F.layer_norm (one and two normalised dims)"""
    x = randn((2, 3, 4, 5), 20)
    w, b = randn((5,), 21), randn((5,), 22)
    assert_close(student.layer_norm(x, 5, w, b), F.layer_norm(x, (5,), w, b), name=N_("layer_norm over the last dim"),
                 hint=N_("mean and biased variance over the last dim, then (x - mean) / sqrt(var + eps) * weight "
                         "+ bias"))
    assert_close(student.layer_norm(x, (4, 5)), F.layer_norm(x, (4, 5)), name=N_("layer_norm over the last two dims"),
                 hint=N_("normalized_shape (4, 5): the statistics run over both trailing dims together"))


# ---- 2.4 transformer_encoder_layer ------------------------------------------------------------

def _encoder_layer(norm_first, seed):
    torch.manual_seed(seed)
    return torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                            norm_first=norm_first).double().eval()


@pytest.mark.task("2.4")
@pytest.mark.points(0)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_transformer_encoder_layer_matches_torch(student, norm_first):
    """2.4 transformer_encoder_layer equals nn.TransformerEncoderLayer in eval mode (causal keep-mask)"""
    layer = _encoder_layer(norm_first, 23)
    x = randn((3, 5, 8), 24)
    keep = torch.ones(5, 5, dtype=torch.bool).tril()
    with torch.no_grad():
        expected = layer(x, src_mask=~keep)
    params = {k: v.detach().clone() for k, v in layer.state_dict().items()}
    got = student.transformer_encoder_layer(x, params, 2, mask=keep, norm_first=norm_first)
    assert_close(got, expected, name=N_("encoder layer output"),
                 hint=N_("post-norm: x = LN1(x + SA(x)), x = LN2(x + FF(x)); pre-norm: x = x + SA(LN1(x)), "
                         "x = x + FF(LN2(x)); FF = linear2(relu(linear1(.))); the mask here is True = may attend"))


# ---- 3.1 mask_tokens --------------------------------------------------------------------------

@pytest.mark.task("3.1")
@pytest.mark.points(0)
def test_mask_tokens_properties(student):
    """3.1 mask_tokens: labels, special tokens and about 15% chosen"""
    tokens = randint((32, 128), 12, 5, 1000)
    tokens[:, 0], tokens[:, -1] = 1, 2                       # [CLS] ... [SEP]
    inputs, labels = student.mask_tokens(tokens, 1000, 4, generator(13), special_token_ids=(1, 2))
    chosen = labels != -100
    assert_close(labels[chosen], tokens[chosen], name=N_("labels at the chosen positions"),
                 hint=N_("labels hold the original id where a token was chosen, -100 elsewhere"))
    assert_close(inputs[~chosen], tokens[~chosen], name=N_("inputs at positions that were not chosen"))
    assert_true(not chosen[:, 0].any() and not chosen[:, -1].any(), N_("special tokens must never be chosen."))
    rate = chosen.float().mean().item()
    assert_true(0.10 < rate < 0.20,
                N_("about 15 percent of the tokens should be chosen; you chose {rate:.1%}.").format(rate=rate))
    share = (inputs[chosen] == 4).float().mean().item()
    assert_true(0.7 < share < 0.9,
                N_("about 80 percent of the chosen tokens should become [MASK]; yours: {share:.1%}.").format(share=share))


@pytest.mark.task("3.1")
@pytest.mark.points(0)
def test_mask_tokens_same_seed_same_result(student):
    """3.1 mask_tokens: the same generator seed gives the same result"""
    tokens = randint((8, 64), 14, 5, 1000)
    first = student.mask_tokens(tokens, 1000, 4, generator(15))
    second = student.mask_tokens(tokens, 1000, 4, generator(15))
    assert_true(torch.equal(first[0], second[0]) and torch.equal(first[1], second[1]),
                N_("two calls with the same generator seed gave different results."),
                N_("use only the generator argument for randomness"))


# ---- 3.2 sample_next_token --------------------------------------------------------------------

@pytest.mark.task("3.2")
@pytest.mark.points(0)
def test_sample_next_token_greedy(student):
    """3.2 sample_next_token: temperature 0 is argmax, top_k=1 too"""
    logits = randn((6, 10), 16, torch.float32)
    assert_close(student.sample_next_token(logits, generator(17), temperature=0), logits.argmax(-1),
                 name=N_("greedy token ids"), hint=N_("temperature 0 = argmax"))
    assert_close(student.sample_next_token(logits, generator(18), top_k=1), logits.argmax(-1),
                 name=N_("token ids with top_k=1"))


@pytest.mark.task("3.2")
@pytest.mark.points(0)
def test_sample_next_token_top_p(student):
    """3.2 sample_next_token: top_p=0.6 on probabilities [0.5, 0.3, 0.2] only draws tokens 0 and 1"""
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]])).repeat(2000, 1)
    got = student.sample_next_token(logits, generator(19), top_p=0.6)
    assert_true(isinstance(got, torch.Tensor) and got.dtype == torch.int64 and tuple(got.shape) == (2000,),
                N_("sample_next_token must return an int64 tensor of shape (B,)."))
    counts = torch.bincount(got, minlength=3)
    assert_true(counts[2] == 0, N_("token 2 is outside the nucleus {0, 1} but was drawn."),
                N_("keep the smallest set of most probable tokens whose probability reaches top_p"))
    share = counts[0].item() / 2000
    assert_true(abs(share - 5 / 8) < 0.05,
                N_("token 0 should be drawn 5/8 of the time; yours: {share:.1%}.").format(share=share),
                N_("renormalise the kept probabilities: [0.5, 0.3] / 0.8"))


# ---- 3.3 lm_loss ------------------------------------------------------------------------------

@pytest.mark.task("3.3")
@pytest.mark.points(0)
def test_lm_loss_matches_cross_entropy(student):
    """3.3 lm_loss equals F.cross_entropy on the shifted positions (with an ignored target)"""
    logits = randn((2, 6, 7), 25, scale=2.0)
    tokens = randint((2, 6), 26, 0, 7)
    tokens[1, 4] = -100
    expected = F.cross_entropy(logits[:, :-1].reshape(-1, 7), tokens[:, 1:].reshape(-1), ignore_index=-100)
    assert_close(student.lm_loss(logits, tokens), expected, name="lm_loss",
                 hint=N_("logits[:, :-1] predict tokens[:, 1:]; average logsumexp(z) - z[y] over the targets "
                         "that are not ignore_index"))
    assert_close(student.lm_loss(torch.zeros(1, 3, 4), torch.tensor([[0, 1, 2]])), torch.tensor(math.log(4)),
                 name=N_("lm_loss of uniform logits"), hint=N_("uniform logits over V tokens give log(V)"))


# ---- 3.4 generate -----------------------------------------------------------------------------

def _successor_model(vocab):
    """A toy language model: the next token is (last token + 1) mod vocab, very confidently."""
    return lambda t: F.one_hot((t + 1) % vocab, vocab).to(torch.float32) * 10


@pytest.mark.task("3.4")
@pytest.mark.points(0)
def test_generate_greedy_example(student):
    """3.4 generate on the handout's example: greedy decoding, then early stop at eos"""
    model, prompt = _successor_model(5), torch.tensor([[0], [3]])
    got = student.generate(model, prompt, 4, generator(27), temperature=0)
    assert_close(got, torch.tensor([[0, 1, 2, 3, 4], [3, 4, 0, 1, 2]]), name=N_("generated tokens"),
                 hint=N_("each step: logits = model(tokens)[:, -1]; next = sample_next_token(logits, ...); append"))
    got = student.generate(model, prompt, 4, generator(27), temperature=0, eos_token_id=1)
    assert_close(got, torch.tensor([[0, 1, 1, 1], [3, 4, 0, 1]]), name=N_("generated tokens with eos_token_id=1"),
                 hint=N_("a row that produced eos keeps producing it; stop as soon as every row has produced it"))
