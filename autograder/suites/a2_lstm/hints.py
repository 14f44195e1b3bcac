"""Feedback hints of the a2_lstm suite, one per concept (validate looks for these words).

Lazy (``N_``): translated into the run's language when a failure message is made."""
from shared.i18n import N_

LSTM = N_("check the gate order (i, f, g, o as in nn.LSTMCell), sigmoid on i, f, o and tanh on g, "
          "the cell update c_next = f * c + i * g, h_next = o * tanh(c_next), and that both biases are added")
GATE_ORDER = N_("gate order: the 4*hidden rows of weight_ih / weight_hh (and of the biases) are the input gate i, "
                "forget gate f, cell candidate g and output gate o, in that order (as nn.LSTMCell); "
                "split the pre-activations with chunk(4, dim=-1) in that order")
ACTIVATIONS = N_("sigmoid squashes the gates i, f, o into (0, 1); tanh gives the candidate g and is applied to the "
                 "new cell state in h_next = o * tanh(c_next)")
BIAS = N_("add both biases to the gate pre-activations: x W_ih^T + b_ih + h W_hh^T + b_hh, for every gate "
          "(the forget-gate bias included); a bias passed as None is simply left out")
FORGET_BIAS = N_("bias of the forget gate: rows hidden:2*hidden of bias_ih and bias_hh belong to f, and they must be "
                 "added like the biases of the other gates")
CELL_UPDATE = N_("c_next = f * c + i * g (the old cell state is kept through the forget gate), "
                 "h_next = o * tanh(c_next)")
GRAD = N_("gradients come from autograd: build the result only from differentiable torch operations on the "
          "arguments (no .detach(), .data, .item() or in-place writes into tensors autograd needs)")
DTYPE = N_("keep the input dtype: create new tensors with the dtype/device of the inputs (e.g. x.new_zeros)")
FORWARD = N_("run the cell over t = 0..T-1 feeding (h, c) from one step to the next; output[t] is h_t, and "
             "(h_n, c_n) are the states after the last step, each shaped (B, hidden)")
VECTORIZE = N_("vectorize over the batch: one matmul per time step for all B sequences at once (the loop over "
               "time steps is expected, a Python loop over batch items is not); the input projection of all "
               "time steps can even be one matmul")
GRU = N_("as nn.GRUCell: gates in the order r, z, n; r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), "
         "z likewise, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_next = (1 - z) * n + z * h")
RESET_GATE = N_("reset gate: r multiplies the recurrent part of the candidate after the matmul and its bias, "
                "n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), as nn.GRUCell (not W_hn (r * h))")
UPDATE_GATE = N_("update gate: h_next = (1 - z) * n + z * h, so z close to 1 keeps the old hidden state "
                 "and z close to 0 takes the candidate n")
NORM = N_("total norm: the p-norm of all gradients viewed as one long vector, i.e. the p-norm of the per-tensor "
          "p-norms; for norm_type=inf it is the largest absolute entry over all gradients")
CLIP = N_("clipping: multiply every gradient by max_norm / (total_norm + 1e-6) when that factor is below 1, "
          "otherwise leave it unchanged")
NO_CLIP = N_("when the total norm is at most max_norm the scale factor is clamped to 1: the gradients are left "
             "exactly as they are")
IN_PLACE = N_("scale the gradient tensors in place (g.mul_(scale)): the caller's tensors must change, "
              "building new tensors or rebinding list entries is not enough; return the total norm as a tensor")
FORBIDDEN = N_("compute it yourself from matmuls, sigmoid and tanh instead of calling torch's recurrent layers")

# torch entry points each function re-implements (the suite makes them raise)
LSTM_APIS = ("torch.nn.LSTMCell.forward", "torch.nn.LSTM.forward", "torch.lstm_cell", "torch._VF.lstm_cell",
             "torch.lstm", "torch._VF.lstm")
GRU_APIS = ("torch.nn.GRUCell.forward", "torch.nn.GRU.forward", "torch.gru_cell", "torch._VF.gru_cell",
            "torch.gru", "torch._VF.gru")
CLIP_APIS = ("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad.clip_grad_norm_",
             "torch.nn.utils.clip_grad_norm", "torch.nn.utils.clip_grad.clip_grad_norm",
             "torch.nn.utils.get_total_norm", "torch.nn.utils.clip_grad._get_total_norm",
             "torch.nn.utils.clip_grads_with_norm_", "torch.nn.utils.clip_grad._clip_grads_with_norm_")
