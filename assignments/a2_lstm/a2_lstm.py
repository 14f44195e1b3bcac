"""Assignment 2: recurrent cells (LSTM, GRU) and gradient clipping.

Implement the four functions below with basic tensor operations (matmul, sigmoid,
tanh, elementwise arithmetic).  Read README.md for the formulas.  Do not call the torch
op a function re-implements (nn.LSTM*, torch.lstm*, nn.GRUCell / torch.gru_cell,
torch.nn.utils.clip_grad_norm_): the grader checks this.

Shapes use these names: B = batch size, I = input size, H = hidden size, T = sequence
length.  Inputs may be float32 or float64; outputs keep the input dtype and device.

Check your work with:  python grade.py check a2_lstm a2_lstm.py
"""
from __future__ import annotations

import torch


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, weight_ih: torch.Tensor,
              weight_hh: torch.Tensor, bias_ih: torch.Tensor | None = None,
              bias_hh: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step, exactly as ``torch.nn.LSTMCell`` computes it.

    The pre-activations of the four gates are computed together::

        gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh      # (B, 4H)

    and split along the last dimension in the order (i, f, g, o)::

        i = sigmoid(gates[:, 0H:1H])     input gate  (입력 게이트)
        f = sigmoid(gates[:, 1H:2H])     forget gate (망각 게이트)
        g = tanh   (gates[:, 2H:3H])     cell candidate (새로운 후보 값)
        o = sigmoid(gates[:, 3H:4H])     output gate (출력 게이트)

        c_next = f * c + i * g
        h_next = o * tanh(c_next)

    A bias that is ``None`` is left out.

    Example:
        >>> x, h, c = torch.randn(2, 3), torch.zeros(2, 4), torch.zeros(2, 4)
        >>> w_ih, w_hh = torch.randn(16, 3), torch.randn(16, 4)
        >>> h1, c1 = lstm_cell(x, h, c, w_ih, w_hh)
        >>> h1.shape, c1.shape
        (torch.Size([2, 4]), torch.Size([2, 4]))

    Args:
        x: input ``(B, I)``.
        h: previous hidden state ``(B, H)``.
        c: previous cell state ``(B, H)``.
        weight_ih: ``(4H, I)``, rows for the gates i, f, g, o stacked in that order.
        weight_hh: ``(4H, H)``, same layout.
        bias_ih: ``(4H,)`` or ``None``.
        bias_hh: ``(4H,)`` or ``None``.

    Returns:
        ``(h_next, c_next)``, each ``(B, H)``, same dtype as ``x``.
    """
    raise NotImplementedError("Task 2.1: lstm_cell")


def lstm_forward(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, weight_ih: torch.Tensor,
                 weight_hh: torch.Tensor, bias_ih: torch.Tensor | None = None,
                 bias_hh: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Run an LSTM over a whole sequence; equals a one-layer ``torch.nn.LSTM``.

    The sequence is time first.  For t = 0, ..., T-1::

        h_{t+1}, c_{t+1} = lstm_cell(x[t], h_t, c_t, weights...)
        output[t] = h_{t+1}

    starting from ``(h0, c0)``.  The loop over time steps is inherent (each step needs the
    previous state), but every step must process the whole batch at once: no Python loop
    over batch items (a timed check compares you with the reference).  Tip: the input
    projection ``x @ weight_ih.T`` of all T steps can be one matmul before the loop.

    Example:
        >>> x = torch.randn(5, 2, 3)                       # T=5, B=2, I=3
        >>> h0 = c0 = torch.zeros(2, 4)
        >>> out, (h_n, c_n) = lstm_forward(x, h0, c0, torch.randn(16, 3), torch.randn(16, 4))
        >>> out.shape, h_n.shape, torch.equal(out[-1], h_n)
        (torch.Size([5, 2, 4]), torch.Size([2, 4]), True)

    Args:
        x: input sequence ``(T, B, I)``.
        h0: initial hidden state ``(B, H)``.
        c0: initial cell state ``(B, H)``.
        weight_ih: ``(4H, I)``; weight_hh: ``(4H, H)``; bias_ih, bias_hh: ``(4H,)`` or ``None``
            (layout as in :func:`lstm_cell`).

    Returns:
        ``(output, (h_n, c_n))``: ``output`` ``(T, B, H)`` holds the hidden state after every
        step; ``h_n`` and ``c_n`` ``(B, H)`` are the states after the last step.
    """
    raise NotImplementedError("Task 2.2: lstm_forward")


def gru_cell(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: torch.Tensor | None = None, bias_hh: torch.Tensor | None = None) -> torch.Tensor:
    """One GRU step, exactly as ``torch.nn.GRUCell`` computes it.

    The rows of the weights are the gates (r, z, n) in that order::

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)          reset gate  (리셋 게이트)
        z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)          update gate (업데이트 게이트)
        n = tanh   (x W_in^T + b_in + r * (h W_hn^T + b_hn))    candidate
        h_next = (1 - z) * n + z * h

    Note where the reset gate acts: on ``h W_hn^T + b_hn``, after the matmul.
    A bias that is ``None`` is left out.

    Example:
        >>> x, h = torch.randn(2, 3), torch.zeros(2, 4)
        >>> gru_cell(x, h, torch.randn(12, 3), torch.randn(12, 4)).shape
        torch.Size([2, 4])

    Args:
        x: input ``(B, I)``.
        h: previous hidden state ``(B, H)``.
        weight_ih: ``(3H, I)``, rows for r, z, n stacked in that order.
        weight_hh: ``(3H, H)``, same layout.
        bias_ih: ``(3H,)`` or ``None``.
        bias_hh: ``(3H,)`` or ``None``.

    Returns:
        ``h_next`` ``(B, H)``, same dtype as ``x``.
    """
    raise NotImplementedError("Task 2.3: gru_cell")


def clip_grad_norm(grads: list[torch.Tensor], max_norm: float, norm_type: float = 2.0) -> torch.Tensor:
    """Clip gradients by their total norm, in place, like ``torch.nn.utils.clip_grad_norm_``.

    The total norm treats all gradients as one long vector::

        total = ( sum_k ||grads[k]||_p ** p ) ** (1/p)      (p = norm_type)
        total = max_k max |grads[k]|                        (p = inf)

    Then every gradient is multiplied **in place** by
    ``scale = min(max_norm / (total + 1e-6), 1)``: nothing changes when the total norm is
    already below ``max_norm``.

    Example:
        >>> g = [torch.tensor([3.0, 4.0])]                  # norm 5
        >>> clip_grad_norm(g, max_norm=1.0)
        tensor(5.)
        >>> g[0]                                            # scaled by 1 / (5 + 1e-6)
        tensor([0.6000, 0.8000])

    Args:
        grads: list of gradient tensors (any shapes); they are modified in place.
        max_norm: largest allowed total norm.
        norm_type: p of the p-norm (``float('inf')`` for the max norm).

    Returns:
        The total norm of ``grads`` before clipping, as a 0-dim tensor (dtype of the gradients).
    """
    raise NotImplementedError("Task 2.4: clip_grad_norm")
