"""The reference LLMFew model in PyTorch, shared by scripts/fixtures/llmfew.py and the benchmark.

PTCEnc is Franceschi et al.'s CausalCNNEncoder (the module LLMFew imports as CasualCNN.py), written as
the T-Loss code builds it: blocks of torch.nn.utils.weight_norm(Conv1d) with padding (K-1)d, Chomp1d,
LeakyReLU, twice, plus a 1x1 residual when widths differ; AdaptiveMaxPool1d(1); Linear. LLMFew follows
LLMFew.py: ReplicationPad1d((0, S)), unfold(P, S), the encoder per patch, Dropout,
llm(inputs_embeds).last_hidden_state, LeakyReLU(llm + e), LayerNorm, Linear (+ Dropout), and with the
reference head a Softmax (the loss then takes CrossEntropyLoss of probabilities).
"""
import torch
import torch.nn as nn


class Chomp1d(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return x[:, :, :-self.n]


class CausalConvolutionBlock(nn.Module):
    def __init__(self, cin, cout, k, d):
        super().__init__()
        pad = (k - 1) * d
        conv1 = nn.utils.weight_norm(nn.Conv1d(cin, cout, k, padding=pad, dilation=d))
        conv2 = nn.utils.weight_norm(nn.Conv1d(cout, cout, k, padding=pad, dilation=d))
        self.causal = nn.Sequential(conv1, Chomp1d(pad), nn.LeakyReLU(), conv2, Chomp1d(pad), nn.LeakyReLU())
        self.upordownsample = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        res = x if self.upordownsample is None else self.upordownsample(x)
        return self.causal(x) + res


class CausalCNN(nn.Module):
    def __init__(self, cin, channels, depth, cout, k):
        super().__init__()
        layers, d = [], 1
        for i in range(depth):
            layers.append(CausalConvolutionBlock(cin if i == 0 else channels, channels, k, d))
            d *= 2
        layers.append(CausalConvolutionBlock(channels, cout, k, d))
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


class CausalCNNEncoder(nn.Module):
    def __init__(self, cin, channels, depth, reduced, cout, k):
        super().__init__()
        self.network = nn.Sequential(CausalCNN(cin, channels, depth, reduced, k), nn.AdaptiveMaxPool1d(1),
                                     nn.Flatten(1), nn.Linear(reduced, cout))

    def forward(self, x):
        return self.network(x)


class LLMFew(nn.Module):
    def __init__(self, llm, d_model, dims, length, classes, patch_len=16, stride=8, channels=256, depth=3,
                 reduced=128, kernel=3, dropout=0.1, reference_head=False):
        super().__init__()
        self.llm, self.d, self.P, self.S = llm, d_model, patch_len, stride
        self.N = int((length - patch_len) / stride + 2)
        self.pad = nn.ReplicationPad1d((0, stride))
        self.encoder = CausalCNNEncoder(dims, channels, depth, reduced, d_model, kernel)
        self.dropout = nn.Dropout(dropout)
        self.ln_proj = nn.LayerNorm(d_model * self.N)
        self.mapping = nn.Sequential(nn.Linear(d_model * self.N, classes), nn.Dropout(dropout if reference_head else 0.0))
        self.reference_head = reference_head

    def forward(self, x):
        B, M, _ = x.shape
        p = self.pad(x).unfold(-1, self.P, self.S)                  # b m n p
        p = p.permute(0, 2, 1, 3).reshape(B * self.N, M, self.P)    # (b n) m p
        e = self.dropout(self.encoder(p)).reshape(B, self.N, self.d)
        h = e if self.llm is None else self.llm(inputs_embeds=e).last_hidden_state + e
        z = self.mapping(self.ln_proj(nn.functional.leaky_relu(h).reshape(B, -1)))
        return torch.softmax(z, dim=1) if self.reference_head else z
