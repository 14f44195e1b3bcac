"""Assignment a3_attention: attention and transformer pieces.

Implement every function below (replace the ``raise NotImplementedError`` lines).
Read README.md for the formulas and the rules; run the public tests with

    python grade.py check a3_attention path/to/a3_attention.py

Rules (checked by the hidden tests):
* all tensors are ``torch.Tensor``; float inputs may be float32 or float64 and
  outputs keep the input dtype and device;
* do not call the torch op a function re-implements:
  ``torch.nn.functional.scaled_dot_product_attention``, ``torch.nn.MultiheadAttention``,
  ``torch.nn.functional.multi_head_attention_forward``, ``torch.nn.functional.layer_norm``,
  ``torch.nn.LayerNorm``, ``torch.nn.TransformerEncoderLayer``,
  ``torch.nn.functional.cross_entropy``, ``torch.nn.functional.nll_loss``,
  ``torch.nn.functional.log_softmax`` (each function's docstring lists its own);
* vectorize: no Python loops over batch items, heads or sequence positions
  (``generate``'s loop over the new tokens is the one exception);
* randomness comes only from the ``generator`` argument.
"""
from __future__ import annotations

import math

import torch

__all__ = ["scaled_dot_product_attention", "causal_mask", "multi_head_attention",
           "sinusoidal_positional_encoding", "layer_norm", "transformer_encoder_layer",
           "mask_tokens", "sample_next_token", "lm_loss", "generate"]


# ============================================================================ Part 1
def scaled_dot_product_attention(q, k, v, mask=None):
    """Scaled dot-product attention (스케일드 닷-프로덕트 어텐션) with a keep-mask.

    Shapes (``...`` = any number of batch dims, e.g. ``(B, H)``)::

        q:       Float[Tensor, "... Lq d"]
        k:       Float[Tensor, "... Lk d"]
        v:       Float[Tensor, "... Lk dv"]
        mask:    Bool or 0/1[Tensor, "broadcastable to ... Lq Lk"] or None
        output:  Float[Tensor, "... Lq dv"]
        weights: Float[Tensor, "... Lq Lk"]

    Formula::

        scores  = q @ k^T / sqrt(d)                   (d = q.shape[-1] = d_k)
        scores[mask == False] = -inf                  (True / 1 = "may attend")
        weights = softmax(scores, over the key axis Lk)
        output  = weights @ v

    A query row whose mask is False everywhere ("fully masked", nothing to attend
    to) gives an all-zero weights row and an all-zero output row, never NaN; the
    gradients stay finite too.  ``output`` equals
    ``torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask.bool())``
    on every row that is not fully masked.

    Example::

        >>> q = torch.tensor([[1.0, 0.0]]); k = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> v = torch.tensor([[1.0], [3.0]])
        >>> out, w = scaled_dot_product_attention(q, k, v)
        >>> w          # softmax([1/sqrt(2), 0])
        tensor([[0.6698, 0.3302]])
        >>> out        # 0.6698 * 1 + 0.3302 * 3
        tensor([[1.6605]])

    Args:
        q: queries, float32 or float64.
        k: keys, same dtype, same last dim as ``q``.
        v: values, same dtype.
        mask: optional bool or 0/1 (integer or float) tensor, broadcastable to
            ``(..., Lq, Lk)``; True/1 = this key may be attended to.

    Returns:
        ``(output, weights)``, both with ``q``'s dtype and device.

    Not allowed: ``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``.
    """
    raise NotImplementedError("Task 1.1: scaled_dot_product_attention")


def causal_mask(length_q, length_k=None, device=None):
    """Causal (look-ahead) mask (마스크드 셀프 어텐션) for decoders such as GPT.

    Shape::

        Bool[Tensor, "Lq Lk"]      (Lk = length_k, defaults to length_q)

    ``mask[i, j] = (j <= i)``: True on and below the main diagonal, aligned at the
    top-left corner (row 0 may attend to key 0 only), also when ``Lq != Lk``.  This is
    the mask ``F.scaled_dot_product_attention(..., is_causal=True)`` uses.

    Example::

        >>> causal_mask(2, 3)
        tensor([[ True, False, False],
                [ True,  True, False]])

    Args:
        length_q: number of queries (rows).
        length_k: number of keys (columns); ``None`` means ``length_q``.
        device: device of the returned tensor (default CPU).

    Returns:
        a ``torch.bool`` tensor of shape ``(length_q, length_k)``.
    """
    raise NotImplementedError("Task 1.2: causal_mask")


# ============================================================================ Part 2
def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None):
    """Multi-head attention (멀티 헤드 어텐션), batch first, as ``nn.MultiheadAttention``.

    Shapes (``E`` = embed dim, ``H`` = ``num_heads``, ``dh = E // H``)::

        query:           Float[Tensor, "B Lq E"]
        key, value:      Float[Tensor, "B Lk E"]
        in_proj_weight:  Float[Tensor, "3E E"]     stacked [W_q; W_k; W_v]
        in_proj_bias:    Float[Tensor, "3E"] or None
        out_proj_weight: Float[Tensor, "E E"]
        out_proj_bias:   Float[Tensor, "E"] or None
        mask:            Bool or 0/1[Tensor, "Lq Lk"] or [Tensor, "B Lq Lk"] or None
        output:          Float[Tensor, "B Lq E"]
        weights:         Float[Tensor, "B Lq Lk"]  (averaged over the H heads)

    Formula::

        Q = query @ W_q^T + b_q;  K = key @ W_k^T + b_k;  V = value @ W_v^T + b_v
        split the last dim into H heads of size dh:  (B, L, E) -> (B, H, L, dh)
        head_h = Attention(Q_h, K_h, V_h, mask)      (scaled dot-product, task 1.1)
        output = concat(head_1, ..., head_H) @ W_o^T + b_o

    The mask uses THIS assignment's convention (True / 1 = may attend), the
    opposite of ``nn.MultiheadAttention``'s ``attn_mask`` (True = NOT allowed), and is
    shared by all heads.  With the same parameters the result equals
    ``nn.MultiheadAttention(E, H, batch_first=True)(query, key, value,
    attn_mask=~mask)`` (outputs and head-averaged weights).

    Example::

        >>> mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = torch.randn(3, 5, 8)
        >>> out, w = multi_head_attention(x, x, x, 2, mha.in_proj_weight, mha.in_proj_bias,
        ...                               mha.out_proj.weight, mha.out_proj.bias)
        >>> out.shape, w.shape
        (torch.Size([3, 5, 8]), torch.Size([3, 5, 5]))

    Args:
        query, key, value: inputs, batch first.
        num_heads: number of heads ``H`` (divides ``E``).
        in_proj_weight, in_proj_bias: stacked input projections (bias may be None).
        out_proj_weight, out_proj_bias: output projection (bias may be None).
        mask: optional keep-mask, ``(Lq, Lk)`` or ``(B, Lq, Lk)``.

    Returns:
        ``(output, weights_averaged_over_heads)``.

    Must be vectorized over the batch and the heads (no Python loop over them).
    Not allowed: ``nn.MultiheadAttention``, ``F.multi_head_attention_forward``,
    ``F.scaled_dot_product_attention``.
    """
    raise NotImplementedError("Task 2.1: multi_head_attention")


def sinusoidal_positional_encoding(length, d_model):
    """Sinusoidal positional encoding (포지셔널 인코딩) of the Transformer.

    Shape::

        Float[Tensor, "length d_model"]     (float32, torch's default dtype)

    Formula, for position ``pos`` and column ``j`` with ``i = j // 2``::

        PE[pos, 2i]   = sin(pos * 10000 ** (-2i / d_model))     (even columns)
        PE[pos, 2i+1] = cos(pos * 10000 ** (-2i / d_model))     (odd columns)

    ``d_model`` may be odd: the last column is then a sin column.

    Example::

        >>> sinusoidal_positional_encoding(2, 3)
        tensor([[0.0000, 1.0000, 0.0000],
                [0.8415, 0.5403, 0.0022]])

    Args:
        length: number of positions (rows), ``pos = 0 .. length-1``.
        d_model: embedding size (columns), >= 1.

    Returns:
        a float32 tensor ``(length, d_model)``.
    """
    raise NotImplementedError("Task 2.2: sinusoidal_positional_encoding")


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization (레이어 정규화), as ``torch.nn.functional.layer_norm``.

    Shapes (``S`` = ``normalized_shape``, the trailing dims that are normalised)::

        x:       Float[Tensor, "... *S"]      e.g. (B, L, E) with S = (E,)
        weight:  Float[Tensor, "*S"] or None  (gamma, elementwise scale)
        bias:    Float[Tensor, "*S"] or None  (beta, elementwise shift)
        return:  Float[Tensor, "... *S"]      same shape, dtype and device as x

    Formula, over the ``len(S)`` trailing dims of every leading index::

        mean = mean(x)
        var  = mean((x - mean)^2)                  (biased: divide by N, not N - 1)
        y    = (x - mean) / sqrt(var + eps) * weight + bias

    Unlike batch norm, the statistics are per sample (per token), so nothing depends
    on the other items of the batch and there are no running statistics.  Compute the
    variance from the centered values (``x - mean``): ``mean(x^2) - mean^2`` cancels
    catastrophically in float32 when ``|mean| >> std``.  Gradients flow through
    autograd.

    Example::

        >>> layer_norm(torch.tensor([[1.0, 2.0, 3.0]]), 3)      # mean 2, var 2/3
        tensor([[-1.2247,  0.0000,  1.2247]])

    Args:
        x: input, float32 or float64.
        normalized_shape: an int or a tuple of ints, equal to the last dims of ``x``.
        weight: optional elementwise scale of shape ``normalized_shape``.
        bias: optional elementwise shift of shape ``normalized_shape``.
        eps: added to the variance before the square root.

    Returns:
        the normalised tensor, same shape, dtype and device as ``x``.

    Not allowed: ``F.layer_norm``, ``nn.LayerNorm``, ``torch.layer_norm``.
    """
    raise NotImplementedError("Task 2.3: layer_norm")


def transformer_encoder_layer(x, params, num_heads, mask=None, norm_first=False, eps=1e-5):
    """One Transformer encoder layer (트랜스포머 인코더 블록), as ``nn.TransformerEncoderLayer``.

    Shapes (batch first, ``E`` = embed dim, ``F`` = feed-forward width)::

        x:      Float[Tensor, "B L E"]
        mask:   Bool or 0/1[Tensor, "L L"] or [Tensor, "B L L"] or None   (True = may attend)
        return: Float[Tensor, "B L E"]

    ``params`` is a dict with the state-dict keys of
    ``nn.TransformerEncoderLayer(E, num_heads, F, batch_first=True)``::

        self_attn.in_proj_weight (3E, E)   self_attn.in_proj_bias (3E,)
        self_attn.out_proj.weight (E, E)   self_attn.out_proj.bias (E,)
        linear1.weight (F, E)  linear1.bias (F,)   linear2.weight (E, F)  linear2.bias (E,)
        norm1.weight (E,)  norm1.bias (E,)         norm2.weight (E,)  norm2.bias (E,)

    With ``SA(h)`` = self-attention (``multi_head_attention(h, h, h, ...)[0]``, Task 2.1)
    and ``FF(h) = linear2(relu(linear1(h)))`` (position-wise feed-forward), and the two
    layer norms ``LN1``, ``LN2`` (Task 2.3, with ``eps``)::

        post-norm (norm_first=False):   x = LN1(x + SA(x));   x = LN2(x + FF(x))
        pre-norm  (norm_first=True):    x = x + SA(LN1(x));   x = x + FF(LN2(x))

    No dropout (eval mode).  ``mask`` is this assignment's keep-mask (True = may attend),
    passed on to the attention; a fully masked row gets zero attention (then the
    out_proj bias), never NaN.  The result equals torch's layer in eval mode with the
    same weights and ``src_mask=~mask``.

    Example::

        >>> layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
        >>> params = dict(layer.state_dict())
        >>> x = torch.randn(3, 5, 8)
        >>> torch.allclose(transformer_encoder_layer(x, params, 2), layer(x), atol=1e-5)
        True

    Args:
        x: input sequences, batch first.
        params: the layer's weights (a dict of tensors, keys as above).
        num_heads: number of attention heads (divides ``E``).
        mask: optional keep-mask, ``(L, L)`` or ``(B, L, L)``.
        norm_first: pre-norm when True, post-norm (the original Transformer) when False.
        eps: the layer norms' eps.

    Returns:
        a tensor ``(B, L, E)`` with ``x``'s dtype and device.

    Vectorize over the batch, positions and heads; you may call your own
    ``multi_head_attention``, ``scaled_dot_product_attention`` and ``layer_norm``.
    Not allowed: ``nn.TransformerEncoderLayer``, ``nn.MultiheadAttention``,
    ``F.multi_head_attention_forward``, ``F.scaled_dot_product_attention``.
    """
    raise NotImplementedError("Task 2.4: transformer_encoder_layer")


# ============================================================================ Part 3
def mask_tokens(tokens, vocab_size, mask_token_id, generator, mask_prob=0.15, special_token_ids=()):
    """BERT's masked-language-model (MLM) corruption (마스킹).

    Shapes::

        tokens: Int[Tensor, "..."]    (any shape, e.g. (B, L); int64 or int32)
        inputs: Int[Tensor, "..."]    same shape, dtype and device as tokens
        labels: Long[Tensor, "..."]   same shape and device, always int64 (the class-index
                                      dtype F.cross_entropy expects), also for int32 tokens

    Recipe:

    1. every token whose id is not in ``special_token_ids`` is chosen independently
       with probability ``mask_prob`` (special tokens such as [CLS], [SEP], [PAD] are
       never chosen);
    2. of the chosen positions, 80% are replaced by ``mask_token_id``, 10% by a random
       id drawn uniformly from ``[0, vocab_size)``, and 10% keep their token (80/10/10);
    3. ``labels`` holds the original id at chosen positions and ``-100`` elsewhere
       (the value ``nn.CrossEntropyLoss`` ignores).

    All randomness comes from ``generator`` (a CPU ``torch.Generator``): the same seed
    gives the same result, whatever the global RNG state.  ``tokens`` is not modified.

    Example::

        >>> g = torch.Generator().manual_seed(0)
        >>> inputs, labels = mask_tokens(torch.tensor([[101, 7, 8, 9, 102]]), 1000, 103, g,
        ...                              mask_prob=0.5, special_token_ids=(101, 102))
        >>> inputs, labels      # one possible draw: token 8 chosen and replaced by [MASK]
        (tensor([[101,   7, 103,   9, 102]]), tensor([[-100, -100,    8, -100, -100]]))

    Args:
        tokens: integer token ids.
        vocab_size: size of the vocabulary (random replacements are in ``[0, vocab_size)``).
        mask_token_id: the id of the [MASK] token.
        generator: the only source of randomness.
        mask_prob: probability that a non-special token is chosen.
        special_token_ids: ids that are never chosen.

    Returns:
        ``(inputs, labels)``: ``inputs`` with ``tokens``' dtype, ``labels`` int64.
    """
    raise NotImplementedError("Task 3.1: mask_tokens")


def sample_next_token(logits, generator, temperature=1.0, top_k=None, top_p=None):
    """Sample the next token (샘플링) with temperature, top-k and top-p (nucleus).

    Shapes::

        logits: Float[Tensor, "B V"]
        return: Long[Tensor, "B"]        (on logits' device)

    Steps, for each row independently:

    1. ``temperature == 0``: greedy decoding, return ``argmax`` (no randomness);
       otherwise divide the logits by ``temperature``;
    2. top-k (if ``top_k`` is not None): keep the ``top_k`` largest logits;
    3. top-p (if ``top_p`` is not None): sort the remaining tokens by probability
       (softmax) in decreasing order and keep the smallest prefix whose total
       probability reaches ``top_p`` (the token that crosses the threshold is kept;
       at least one token is always kept);
    4. renormalise the kept probabilities and draw one token using ``generator``.

    Example::

        >>> logits = torch.log(torch.tensor([[0.5, 0.3, 0.2]]))
        >>> g = torch.Generator().manual_seed(0)
        >>> sample_next_token(logits, g, top_p=0.6)     # keeps {0, 1}: p = [5/8, 3/8, 0]
        tensor([1])   # token 0 or 1, depending on the draw
        >>> sample_next_token(logits, g, temperature=0)
        tensor([0])

    Args:
        logits: unnormalised scores.
        generator: a CPU ``torch.Generator``, the only source of randomness.
        temperature: > 0 to sample, 0 for argmax.
        top_k: keep only the k most probable tokens (None = all).
        top_p: nucleus threshold in (0, 1] (None = no nucleus filtering).

    Returns:
        a LongTensor ``(B,)`` of token ids.
    """
    raise NotImplementedError("Task 3.2: sample_next_token")


def lm_loss(logits, tokens, ignore_index=-100):
    """Next-token cross-entropy of a language model (GPT's pre-training loss, 다음 토큰 예측).

    Shapes::

        logits: Float[Tensor, "B L V"]      the model's scores at every position
        tokens: Long[Tensor, "B L"]         the sequences the logits were computed from
        return: Float[Tensor, ""]           0-dim, logits' dtype

    The logits at position ``i`` predict the token at position ``i + 1`` (shift by one)::

        z = logits[:, :-1]                  (B, L-1, V): positions 0 .. L-2
        y = tokens[:, 1:]                   (B, L-1):    their targets, positions 1 .. L-1
        nll[b, i] = -log softmax(z[b, i])[y[b, i]] = logsumexp(z[b, i]) - z[b, i, y[b, i]]
        loss = mean of nll over the (b, i) whose target y[b, i] != ignore_index

    This equals ``F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1),
    ignore_index=ignore_index)``.  Ignored targets (e.g. padding) count neither in the sum
    nor in the number of terms.  It must stay finite for logits up to +-1e4: use
    ``torch.logsumexp`` (or subtract the row max), never ``log(softmax(...))`` or
    ``exp`` of raw logits.  Gradients flow through autograd.

    Example::

        >>> logits = torch.zeros(1, 3, 4)                   # uniform predictions
        >>> lm_loss(logits, torch.tensor([[0, 1, 2]]))      # log(4)
        tensor(1.3863)

    Args:
        logits: scores ``(B, L, V)``, float32 or float64.
        tokens: integer token ids ``(B, L)`` in ``[0, V)`` or equal to ``ignore_index``.
        ignore_index: target id that is left out of the mean (the tests always keep at
            least one target).

    Returns:
        the mean loss, a 0-dim tensor with ``logits``' dtype.

    Vectorize: no Python loop over batch items or positions.
    Not allowed: ``F.cross_entropy``, ``F.nll_loss``, ``nn.CrossEntropyLoss``,
    ``F.log_softmax``, ``torch.log_softmax``.
    """
    raise NotImplementedError("Task 3.3: lm_loss")


def generate(model, prompt, max_new_tokens, generator, temperature=1.0, top_k=None, top_p=None,
             eos_token_id=None):
    """Autoregressive text generation (자기회귀 생성) with your ``sample_next_token``.

    Shapes::

        prompt: Long[Tensor, "B L"]
        model:  callable, model(tokens: Long[Tensor, "B L2"]) -> Float[Tensor, "B L2 V"]
        return: Long[Tensor, "B L+n"]       the prompt followed by n new tokens

    Loop, for step = 1, 2, ..., max_new_tokens::

        logits = model(tokens)[:, -1, :]            the whole sequence so far; keep the
                                                    LAST position's logits (B, V)
        next   = sample_next_token(logits, generator, temperature, top_k, top_p)
        tokens = cat([tokens, next[:, None]], dim=1)

    Exactly one ``model`` call and one ``sample_next_token`` call per step, each on the
    whole batch (also the rows that have finished), so that the generator's stream of
    random numbers does not depend on which rows are done.

    ``eos_token_id`` (end of sequence, 종료 토큰): once a row has *produced* it (the
    prompt does not count), that row's next tokens are ``eos_token_id`` whatever was
    sampled.  Generation stops after ``max_new_tokens`` steps, or as soon as every row
    has produced ``eos_token_id`` (then fewer than ``max_new_tokens`` tokens are
    added).  ``eos_token_id=None`` never stops early.

    Example::

        >>> V = 5
        >>> model = lambda t: torch.nn.functional.one_hot((t + 1) % V, V).float() * 10
        >>> g = torch.Generator().manual_seed(0)
        >>> generate(model, torch.tensor([[0], [3]]), 4, g, temperature=0)   # greedy: next = last + 1
        tensor([[0, 1, 2, 3, 4],
                [3, 4, 0, 1, 2]])
        >>> generate(model, torch.tensor([[0], [3]]), 4, g, temperature=0, eos_token_id=1)
        tensor([[0, 1, 1, 1],
                [3, 4, 0, 1]])

    Args:
        model: the language model, called as ``model(tokens)``.
        prompt: token ids to start from (at least one per row).
        max_new_tokens: the most tokens to add (0 returns the prompt).
        generator: passed to ``sample_next_token``, the only source of randomness.
        temperature, top_k, top_p: passed to ``sample_next_token``.
        eos_token_id: the end-of-sequence id, or None.

    Returns:
        a LongTensor ``(B, L + n)`` with ``n <= max_new_tokens``.
    """
    raise NotImplementedError("Task 3.4: generate")
