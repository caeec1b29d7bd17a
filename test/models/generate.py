#!/usr/bin/python3
"""Export Kiln's test models from torch with seeded random weights.

Usage: generate.py OUTDIR [--set spine|zoo|all|bench|transformers|conv_nd]
                     [--only NAME[,NAME...]] [--opset N] [--force]

Two sets of models: "spine" (the default; what the e2e ctest fixture runs)
and "zoo" (more torchvision CNNs and an LSTM, each at opset 13 and 17 and at
batch 1 and 4). --only picks models by name from any set. A third set,
"bench", holds the larger models that only bench/bench.py times (a 4-layer
BERT-style encoder at sequence 128, ResNet-18 at batch 8); "all" is spine and
zoo, without it. A fourth, "transformers" (a ViT, a GPT-2-style decoder and a
T5-style encoder at opset 14 and 17, batch 1 and 2), is exported with dynamic
axes and writes OUTDIR/NAME/kilnc_flags, the --input-shape pins to compile
it with. A fifth, "conv_nd", holds a 1-d temporal CNN (tcn) and a 3-d video
CNN (c3d), each at opset 13 and 17.

For each model NAME this writes, in ONNX's backend test-data layout:
    OUTDIR/NAME/model.onnx
    OUTDIR/NAME/test_data_set_0/input_0.pb ... output_0.pb
The .pb files are serialized TensorProtos named after the graph's inputs and
outputs; the outputs are torch's own (eager, eval-mode, float32 CPU) results.

Nothing is downloaded: torchvision models are built with weights=None and every
parameter and BatchNorm statistic is drawn from a seeded generator, so the same
torch/torchvision versions give the same files. A model whose files and
OUTDIR/NAME/.stamp (generator version, opset, torch version) already match is
skipped, so a rerun is fast.

Needs Debian's python3-torch, python3-torchvision, python3-onnx, python3-numpy:
run with /usr/bin/python3, not a python3 from a virtualenv or pyenv.
"""

import argparse
import collections
import math
import os
import sys
import time

# Bump when the models, their weights or their inputs change: stale outputs
# are then regenerated instead of skipped. The zoo has its own version so a
# change there does not regenerate the spine (and the other way round).
GENERATOR_VERSION = "kiln-models-1"
ZOO_VERSION = "kiln-zoo-1"
BENCH_VERSION = "kiln-bench-1"
TRANSFORMER_VERSION = "kiln-transformers-1"
CONV_ND_VERSION = "kiln-conv-nd-1"
MCU_VERSION = "kiln-mcu-1"

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover
    sys.exit("generate.py: %s (needs Debian's python3-torch, python3-onnx, "
             "python3-numpy; run with /usr/bin/python3)" % e)

SEED = 0


# --------------------------------------------------------------------------
# Weight randomisation
# --------------------------------------------------------------------------

def randomize_params(model, gen):
    """Give BatchNorm, LayerNorm and zero biases non-trivial, seeded values.

    Default init makes BN an identity in eval mode (mean 0, var 1, weight 1,
    bias 0), which would hide a wrong BN lowering. The ranges keep the scale
    of activations about where it was.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                shape = m.weight.shape
                m.weight.copy_(torch.rand(shape, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(shape, generator=gen) * 0.1)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None \
                    and not m.bias.any():
                # torchvision zero-inits some biases (squeezenet's convs,
                # mobilenet's classifier). Zero biases test nothing, and the
                # exporter merges equal initializers behind Identity nodes.
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.05)


def tame_residuals(model, factor=0.5):
    """Scale the last BN of each ResNet block so the residual stream does not
    grow through the network: with the random BN statistics above, resnet50's
    logits would otherwise reach |x| ~ 400, where atol 1e-4 means nothing."""
    import torchvision
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torchvision.models.resnet.Bottleneck):
                bn = m.bn3
            elif isinstance(m, torchvision.models.resnet.BasicBlock):
                bn = m.bn2
            else:
                continue
            bn.weight.mul_(factor)
            bn.bias.mul_(factor)


def _round_mantissa(t, bits=10):
    """Round to `bits` mantissa bits, so BN statistics measured from a forward
    pass do not change with last-ulp differences in torch's reductions."""
    m, e = torch.frexp(t)
    return torch.ldexp(torch.round(m * (1 << bits)) / (1 << bits), e)


def calibrate_bn(model, gen, x):
    """Set every BatchNorm's running statistics from the activations it sees
    on the seeded input x, then perturb them (mean by ~0.1 sigma, variance by
    x0.75..1.25), in one eval-mode pass, in forward order.

    randomize_params alone leaves BN statistics unrelated to the activations:
    with GoogLeNet's std-0.01 conv init (and EfficientNet's depthwise convs)
    the pre-BN signal is ~0.01 and everything downstream is BN bias, while
    DenseNet's concatenations grow to |x| ~ 30. Calibrated, every BN output
    is about N(bias, weight^2): O(1) activations that depend on the input.
    Call after randomize_params (which sets weight and bias)."""
    def pre_hook(bn, inp):
        a = inp[0]
        dims = [0] + list(range(2, a.dim()))
        mean = a.mean(dims)
        var = a.var(dims, unbiased=False)
        # A channel that is (nearly) constant on x, e.g. dead after a ReLU,
        # must not get 1/sqrt(eps) gain on other inputs.
        var = torch.maximum(var, var.mean() * 0.05 + 1e-6)
        n = bn.num_features
        mean = mean + torch.randn(n, generator=gen) * 0.1 * var.sqrt()
        var = var * (torch.rand(n, generator=gen) * 0.5 + 0.75)
        bn.running_mean.copy_(_round_mantissa(mean))
        bn.running_var.copy_(_round_mantissa(var))

    hooks = [m.register_forward_pre_hook(pre_hook) for m in model.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, stride=1, padding=1), nn.ReLU(),
            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 7 * 7, 10))

    def forward(self, x):
        return self.net(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention written out by hand (no nn.MultiheadAttention)."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x):
        b, s, h = x.shape
        q = self.q(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, h)
        return self.out(ctx)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.attn = SelfAttention(hidden, heads)
        self.ln1 = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, ffn), nn.GELU(),
                                 nn.Linear(ffn, hidden))
        self.ln2 = nn.LayerNorm(hidden)

    def forward(self, x):
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn(x))


class BertEncoder(nn.Module):
    def __init__(self, vocab=1000, max_pos=64, hidden=128, heads=4, ffn=512,
                 layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(max_pos, hidden)
        self.ln = nn.LayerNorm(hidden)
        self.layers = nn.ModuleList(
            [EncoderLayer(hidden, heads, ffn) for _ in range(layers)])
        self.pooler = nn.Linear(hidden, hidden)
        self.tanh = nn.Tanh()

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, device=input_ids.device)
        x = self.ln(self.tok(input_ids) + self.pos(pos))
        for layer in self.layers:
            x = layer(x)
        return self.tanh(self.pooler(x[:, 0]))


class LSTMClassifier(nn.Module):
    """Token ids [B, T] -> embedding -> one LSTM layer -> last step -> logits."""

    def __init__(self, vocab=1000, dim=64, hidden=128, classes=5):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=1, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, input_ids):
        out, _ = self.lstm(self.emb(input_ids))
        return self.fc(out[:, -1])


# --------------------------------------------------------------------------
# Transformers whose shape arithmetic depends on the input: exported with a
# dynamic batch (and sequence) and compiled with the inputs pinned
# (--input-shape), as a user exporting from torch or Hugging Face code would.
# --------------------------------------------------------------------------

class ViTBlock(nn.Module):
    """Pre-norm encoder block around nn.MultiheadAttention (sequence first:
    torch 1.13 exports no batch_first attention in eval mode, which takes
    the fused _native_multi_head_attention path)."""

    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(),
                                 nn.Linear(mlp, dim))

    def forward(self, x):
        h = self.ln1(x).transpose(0, 1)
        x = x + self.attn(h, h, h, need_weights=False)[0].transpose(0, 1)
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    """A ViT-style classifier: 8x8 patches of a 32x32 image, a class token
    concatenated with expand(B, -1, -1), a learned position embedding."""

    def __init__(self, image=32, patch=8, dim=64, heads=4, mlp=128, layers=2,
                 classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        n = (image // patch) ** 2
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.5)
        self.blocks = nn.ModuleList(
            [ViTBlock(dim, heads, mlp) for _ in range(layers)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        b = x.shape[0]
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(b, -1, -1), x], dim=1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x)[:, 0])


class CausalSelfAttention(nn.Module):
    """GPT-2's attention as nanoGPT writes it: the mask from torch.triu."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(dim, 3 * dim)
        self.c_proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(c, dim=2)
        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device),
                          diagonal=1)
        att = torch.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y)


class GPT2Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim)
        self.attn = CausalSelfAttention(dim, heads)
        self.ln_2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim),
                                 nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    """A GPT-2-style decoder stack: token and position embeddings (positions
    from torch.arange over the sequence), causal blocks, tied LM head."""

    def __init__(self, vocab=512, max_pos=128, dim=64, heads=4, layers=2):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(max_pos, dim)
        self.blocks = nn.ModuleList(
            [GPT2Block(dim, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(dim)

    def forward(self, input_ids):
        t = input_ids.size(1)
        pos = torch.arange(0, t, dtype=torch.long, device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(pos)
        for blk in self.blocks:
            x = blk(x)
        return self.ln_f(x) @ self.wte.weight.t()


class TCN(nn.Module):
    """A temporal CNN over 40 MFCC features (as TCN and wav2letter stack
    them): dilated, grouped, depthwise and strided Conv1d layers with
    residual connections, global average pooling, a linear classifier."""

    def __init__(self, features=40, channels=64, classes=12):
        super().__init__()
        self.inp = nn.Conv1d(features, channels, 3, padding=1)
        self.dilated = nn.Conv1d(channels, channels, 3, padding=2, dilation=2,
                                 groups=4)
        self.depthwise = nn.Conv1d(channels, channels, 3, padding=4,
                                   dilation=4, groups=channels)
        self.pointwise = nn.Conv1d(channels, channels, 1)
        self.bn = nn.BatchNorm1d(channels)
        self.down = nn.Conv1d(channels, 32, 5, stride=2, padding=2)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = torch.relu(self.inp(x))
        x = x + torch.relu(self.dilated(x))
        x = x + torch.relu(self.bn(self.pointwise(self.depthwise(x))))
        x = torch.relu(self.down(x))
        return self.fc(x.mean(dim=2))


class C3D(nn.Module):
    """A small C3D-style video CNN over a 16x112x112 clip: 3x3x3 Conv3d
    layers with BatchNorm3d, MaxPool3d that keeps then halves the time
    axis, global average pooling, a linear classifier."""

    def __init__(self, classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv3d(3, 8, 3, padding=1), nn.ReLU(),
            nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(8, 16, 3, padding=1), nn.BatchNorm3d(16), nn.ReLU(),
            nn.MaxPool3d(2),
            nn.Conv3d(16, 32, 3, stride=(1, 2, 2), padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(32, classes))

    def forward(self, x):
        return self.net(x)


class DSCNN(nn.Module):
    """MLPerf Tiny's keyword-spotting DS-CNN over a 49x10 MFCC input: a
    10x4 stride-2 Conv, four depthwise-separable blocks (3x3 depthwise,
    1x1 pointwise, each with BatchNorm and ReLU), average pooling over the
    whole 25x5 map, a linear layer to 12 keywords."""

    def __init__(self, channels=64, classes=12, blocks=4):
        super().__init__()
        layers = [nn.Conv2d(1, channels, (10, 4), stride=2, padding=(5, 1)),
                  nn.BatchNorm2d(channels), nn.ReLU()]
        for _ in range(blocks):
            layers += [nn.Conv2d(channels, channels, 3, padding=1,
                                 groups=channels),
                       nn.BatchNorm2d(channels), nn.ReLU(),
                       nn.Conv2d(channels, channels, 1),
                       nn.BatchNorm2d(channels), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.features(x)
        return self.fc(torch.flatten(nn.functional.avg_pool2d(x, x.shape[2:]), 1))


class T5LayerNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class T5Attention(nn.Module):
    """T5's self-attention with view(B, -1, heads, d) reshapes; the first
    layer computes the relative position bias (buckets from torch.arange,
    log, where and min, as Hugging Face's T5 does)."""

    def __init__(self, dim, heads, d_kv, bias, buckets=32, max_distance=128):
        super().__init__()
        self.heads, self.d_kv, self.inner = heads, d_kv, heads * d_kv
        self.q = nn.Linear(dim, self.inner, bias=False)
        self.k = nn.Linear(dim, self.inner, bias=False)
        self.v = nn.Linear(dim, self.inner, bias=False)
        self.o = nn.Linear(self.inner, dim, bias=False)
        self.buckets, self.max_distance = buckets, max_distance
        self.rel = nn.Embedding(buckets, heads) if bias else None

    def bucket(self, rel):
        n = self.buckets // 2
        ret = (rel > 0).to(torch.long) * n
        rel = torch.abs(rel)
        max_exact = n // 2
        is_small = rel < max_exact
        large = max_exact + (torch.log(rel.float() / max_exact)
                             / math.log(self.max_distance / max_exact)
                             * (n - max_exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, n - 1))
        return ret + torch.where(is_small, rel, large)

    def position_bias(self, t):
        ctx = torch.arange(t, dtype=torch.long)[:, None]
        mem = torch.arange(t, dtype=torch.long)[None, :]
        values = self.rel(self.bucket(mem - ctx))      # [t, t, heads]
        return values.permute([2, 0, 1]).unsqueeze(0)  # [1, heads, t, t]

    def forward(self, x, mask, bias):
        b = x.size(0)
        q = self.q(x).view(b, -1, self.heads, self.d_kv).transpose(1, 2)
        k = self.k(x).view(b, -1, self.heads, self.d_kv).transpose(1, 2)
        v = self.v(x).view(b, -1, self.heads, self.d_kv).transpose(1, 2)
        if bias is None:
            bias = self.position_bias(x.size(1)) + mask
        scores = torch.matmul(q, k.transpose(3, 2)) + bias
        probs = torch.softmax(scores.float(), dim=-1).type_as(scores)
        ctx = torch.matmul(probs, v).transpose(1, 2).contiguous()
        return self.o(ctx.view(b, -1, self.inner)), bias


class T5Block(nn.Module):
    def __init__(self, dim, heads, d_kv, ffn, bias):
        super().__init__()
        self.ln1 = T5LayerNorm(dim)
        self.attn = T5Attention(dim, heads, d_kv, bias)
        self.ln2 = T5LayerNorm(dim)
        self.wi = nn.Linear(dim, ffn, bias=False)
        self.wo = nn.Linear(ffn, dim, bias=False)

    def forward(self, x, mask, bias):
        h, bias = self.attn(self.ln1(x), mask, bias)
        x = x + h
        return x + self.wo(torch.relu(self.wi(self.ln2(x)))), bias


class T5Encoder(nn.Module):
    """A T5-style encoder: token ids and an attention mask (1 = attend), the
    extended mask (1 - mask) * -1e9 broadcast over heads and queries."""

    def __init__(self, vocab=512, dim=64, heads=4, d_kv=16, ffn=128, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(
            [T5Block(dim, heads, d_kv, ffn, i == 0) for i in range(layers)])
        self.ln = T5LayerNorm(dim)

    def forward(self, input_ids, attention_mask):
        b, t = input_ids.size()
        mask = attention_mask.view(b, 1, 1, t).to(torch.float32)
        mask = (1.0 - mask) * -1e9
        x = self.embed(input_ids)
        bias = None
        for blk in self.blocks:
            x, bias = blk(x, mask, bias)
        return self.ln(x)


def tv(name, **kwargs):
    def build():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kwargs)
    build.key = (name, tuple(sorted(kwargs.items())))
    return build


def build_mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def image_input(gen, shape):
    return torch.randn(*shape, generator=gen)


def token_input(gen, shape, vocab=1000):
    return torch.randint(0, vocab, shape, generator=gen, dtype=torch.int64)


# name -> (builder, [(input name, input maker, shape)], fixed opset or None)
IMAGE = [("input", image_input, (1, 3, 224, 224))]
MODELS = collections.OrderedDict([
    ("mlp", (build_mlp, [("input", image_input, (1, 784))], None)),
    ("small_cnn", (SmallCNN, [("input", image_input, (1, 1, 28, 28))], None)),
    ("resnet18", (tv("resnet18"), IMAGE, None)),
    ("resnet50", (tv("resnet50"), IMAGE, None)),
    ("mobilenet_v2", (tv("mobilenet_v2"), IMAGE, None)),
    ("squeezenet1_1", (tv("squeezenet1_1"), IMAGE, None)),
    ("bert_encoder", (BertEncoder, [("input_ids", token_input, (1, 16))], None)),
    ("bert_encoder_opset17",
     (BertEncoder, [("input_ids", token_input, (1, 16))], 17)),
])
SPINE = list(MODELS)

# The zoo: name -> (builder, [inputs], opset). Every base model comes in four
# variants, NAME, NAME_b4, NAME_opset17, NAME_opset17_b4, with the same
# weights (the batch-4 input's first item is the batch-1 input, so output[0]
# of the _b4 model equals the batch-1 output up to rounding).
ZOO_BASE = collections.OrderedDict([
    ("googlenet", (tv("googlenet", aux_logits=False, init_weights=True),
                   "image")),
    ("densenet121", (tv("densenet121"), "image")),
    ("shufflenet_v2", (tv("shufflenet_v2_x1_0"), "image")),
    ("efficientnet_b0", (tv("efficientnet_b0"), "image")),
    ("lstm_classifier", (LSTMClassifier, "tokens")),
])
ZOO = collections.OrderedDict()
for _base, (_builder, _kind) in ZOO_BASE.items():
    for _opset, _osuffix in ((13, ""), (17, "_opset17")):
        for _batch, _bsuffix in ((1, ""), (4, "_b4")):
            if _kind == "image":
                _inputs = [("input", image_input, (_batch, 3, 224, 224))]
            else:
                _inputs = [("input_ids", token_input, (_batch, 12))]
            ZOO[_base + _osuffix + _bsuffix] = (_builder, _inputs, _opset)

# The benchmark's own models (bench/bench.py; no test runs them), in the
# spine's format with a fixed opset: the BERT-style encoder at the size the
# benchmark asks for (4 layers, hidden 256, 4 heads, FFN 1024, sequence 128)
# and ResNet-18 at batch 8 (the weights of "resnet18", a batch of 8 images).
def build_bert_bench():
    return BertEncoder(max_pos=128, hidden=256, heads=4, ffn=1024, layers=4)


BENCH = collections.OrderedDict([
    ("bert_bench",
     (build_bert_bench, [("input_ids", token_input, (1, 128))], 13)),
    ("resnet18_b8",
     (tv("resnet18"), [("input", image_input, (8, 3, 224, 224))], 13)),
])

# Audio and video CNNs with 1-d and 3-d convolutions (issue 11): name ->
# (builder, [inputs], opset), each at opset 13 and 17, batch 1.
CONV_ND = collections.OrderedDict()
for _opset, _osuffix in ((13, ""), (17, "_opset17")):
    CONV_ND["tcn" + _osuffix] = (
        TCN, [("input", image_input, (1, 40, 100))], _opset)
    CONV_ND["c3d" + _osuffix] = (
        C3D, [("input", image_input, (1, 3, 16, 112, 112))], _opset)

# Microcontroller models (issue 8), beside the spine's small_cnn: name ->
# (builder, [inputs], opset).
MCU = collections.OrderedDict([
    ("ds_cnn", (DSCNN, [("input", image_input, (1, 1, 49, 10))], 13)),
])


# The transformers (issue 10): name -> (builder, [inputs], opset, dynamic
# axes). Each base model comes as NAME_opset14, NAME_opset14_b2,
# NAME_opset17 and NAME_opset17_b2, with the same weights; the batch-2
# input's first item is the batch-1 input. They are exported with a dynamic
# batch (and sequence), so their shape tensors come from Shape, Gather,
# Concat, Range, ConstantOfShape...; OUTDIR/NAME/kilnc_flags pins the inputs.
def mask_input(gen, shape):
    """An attention mask: all ones for the first item, the last quarter of
    the positions masked out for the others."""
    m = torch.ones(*shape, dtype=torch.int64)
    m[1:, shape[1] - shape[1] // 4:] = 0
    return m


def token_input_512(gen, shape):
    return token_input(gen, shape, vocab=512)


TRANSFORMER_BASE = collections.OrderedDict([
    ("vit", (ViT, [("input", image_input, (3, 32, 32))],
             {"input": {0: "batch"}, "output": {0: "batch"}})),
    ("gpt2", (GPT2, [("input_ids", token_input_512, (64,))],
              {"input_ids": {0: "batch", 1: "seq"},
               "output": {0: "batch", 1: "seq"}})),
    ("t5_encoder", (T5Encoder, [("input_ids", token_input_512, (32,)),
                                ("attention_mask", mask_input, (32,))],
                    {"input_ids": {0: "batch", 1: "seq"},
                     "attention_mask": {0: "batch", 1: "seq"},
                     "output": {0: "batch", 1: "seq"}})),
])
TRANSFORMERS = collections.OrderedDict()
for _base, (_builder, _inputs, _axes) in TRANSFORMER_BASE.items():
    for _opset in (14, 17):
        for _batch, _bsuffix in ((1, ""), (2, "_b2")):
            TRANSFORMERS["%s_opset%d%s" % (_base, _opset, _bsuffix)] = (
                _builder, [(n, make, (_batch,) + shape)
                           for n, make, shape in _inputs], _opset, _axes)

SETS = collections.OrderedDict([
    ("spine", SPINE),
    ("zoo", list(ZOO)),
    ("all", SPINE + list(ZOO)),
    ("bench", list(BENCH)),
    ("transformers", list(TRANSFORMERS)),
    ("conv_nd", list(CONV_ND)),
    ("mcu", list(MCU)),
])


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------

def stamp_text(opset, version=GENERATOR_VERSION):
    return "%s opset=%d torch=%s\n" % (version, opset, torch.__version__)


def up_to_date(mdir, n_in, n_out, opset, version=GENERATOR_VERSION):
    files = [os.path.join(mdir, "model.onnx")]
    tdir = os.path.join(mdir, "test_data_set_0")
    files += [os.path.join(tdir, "input_%d.pb" % i) for i in range(n_in)]
    files += [os.path.join(tdir, "output_%d.pb" % i) for i in range(n_out)]
    try:
        with open(os.path.join(mdir, ".stamp")) as f:
            if f.read() != stamp_text(opset, version):
                return False
    except OSError:
        return False
    return all(os.path.isfile(p) for p in files)


def write_pb(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(arr), name)
                .SerializeToString())


# builder key -> (model, generator state after the weights were drawn,
# {input shapes: (inputs, outputs)}): the zoo's four variants of a model share
# one build and BN calibration, and its opset 13 and 17 variants of one batch
# size share one reference run.
_ZOO_CACHE = {}


def build_zoo_model(builder, inputs, gen):
    """Build and randomise a zoo model; leave gen where a fresh build would."""
    key = getattr(builder, "key", builder)
    if key in _ZOO_CACHE:
        model, state, refs = _ZOO_CACHE[key]
        gen.set_state(state)
        return model, refs
    model = builder()
    randomize_params(model, gen)
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm)
           for m in model.modules()):
        # Calibrate on a batch-1 input from its own seeded generator, so
        # the weights do not depend on the variant's batch size.
        cgen = torch.Generator().manual_seed(SEED + 1)
        shape = (1,) + tuple(inputs[0][2][1:])
        calibrate_bn(model, gen, inputs[0][1](cgen, shape))
    model.eval()
    _ZOO_CACHE.clear()  # one model at a time: the variants are adjacent
    _ZOO_CACHE[key] = (model, gen.get_state(), {})
    return model, _ZOO_CACHE[key][2]


def export_one(name, outdir, opset, force):
    axes = None
    if name in ZOO:
        builder, inputs, opset = ZOO[name]
        version = ZOO_VERSION
    elif name in TRANSFORMERS:
        builder, inputs, opset, axes = TRANSFORMERS[name]
        version = TRANSFORMER_VERSION
    elif name in CONV_ND:
        builder, inputs, opset = CONV_ND[name]
        version = CONV_ND_VERSION
    elif name in MCU:
        builder, inputs, opset = MCU[name]
        version = MCU_VERSION
    else:
        builder, inputs, fixed_opset = MODELS.get(name) or BENCH[name]
        if fixed_opset is not None:
            opset = fixed_opset
        version = BENCH_VERSION if name in BENCH else GENERATOR_VERSION
    mdir = os.path.join(outdir, name)
    if not force and up_to_date(mdir, len(inputs), 1, opset, version):
        print("== %s: up to date, skipped" % name)
        return True

    t0 = time.time()
    # Seed per model so --only gives the same files as a full run.
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    ref_cache = None
    if name in ZOO:
        model, ref_cache = build_zoo_model(builder, inputs, gen)
    else:
        model = builder()
        randomize_params(model, gen)
        if name.startswith("resnet"):
            tame_residuals(model)
        model.eval()
    args = tuple(make(gen, shape) for _, make, shape in inputs)
    in_names = [n for n, _, _ in inputs]
    out_names = ["output"]

    shapes = tuple(tuple(a.shape) for a in args)
    cached = ref_cache.get(shapes) if ref_cache is not None else None
    if cached is not None and all(torch.equal(a, b)
                                  for a, b in zip(args, cached[0])):
        refs = cached[1]
    else:
        with torch.no_grad():
            ref = model(*args)
        refs = [ref] if isinstance(ref, torch.Tensor) else list(ref)
        if ref_cache is not None:
            ref_cache[shapes] = (args, refs)

    tdir = os.path.join(mdir, "test_data_set_0")
    os.makedirs(tdir, exist_ok=True)
    stamp = os.path.join(mdir, ".stamp")
    if os.path.exists(stamp):
        os.remove(stamp)
    path = os.path.join(mdir, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, args, path, export_params=True,
                          do_constant_folding=True, opset_version=opset,
                          input_names=in_names, output_names=out_names,
                          dynamic_axes=axes)
    t_export = time.time() - t0

    m = onnx.load(path)
    onnx.checker.check_model(m)
    graph_in = [i.name for i in m.graph.input
                if i.name not in {t.name for t in m.graph.initializer}]
    graph_out = [o.name for o in m.graph.output]
    assert graph_in == in_names, (graph_in, in_names)
    assert len(graph_out) == len(refs), (graph_out, len(refs))

    for i, (n, a) in enumerate(zip(graph_in, args)):
        write_pb(os.path.join(tdir, "input_%d.pb" % i), a.numpy(), n)
    for i, (n, r) in enumerate(zip(graph_out, refs)):
        write_pb(os.path.join(tdir, "output_%d.pb" % i), r.numpy(), n)
    verify_readback(m, tdir, args, refs)
    flags = os.path.join(mdir, "kilnc_flags")
    if axes:
        with open(flags, "w") as f:
            for n, a in zip(in_names, args):
                f.write("--input-shape=%s:%s\n"
                        % (n, "x".join(str(d) for d in a.shape)))
    elif os.path.exists(flags):
        os.remove(flags)
    with open(stamp, "w") as f:
        f.write(stamp_text(opset, version))

    report(name, m, path, refs, time.time() - t0, t_export)
    return True


def dims_of(value_info):
    return tuple(d.dim_value if d.HasField("dim_value") else d.dim_param
                 for d in value_info.type.tensor_type.shape.dim)


def verify_readback(m, tdir, args, refs):
    inits = {t.name for t in m.graph.initializer}
    ins = [i for i in m.graph.input if i.name not in inits]
    for kind, vis, arrs in (("input", ins, args), ("output", m.graph.output, refs)):
        for i, (vi, a) in enumerate(zip(vis, arrs)):
            t = onnx.TensorProto()
            with open(os.path.join(tdir, "%s_%d.pb" % (kind, i)), "rb") as f:
                t.ParseFromString(f.read())
            back = numpy_helper.to_array(t)
            assert t.name == vi.name, (t.name, vi.name)
            # A dynamic dimension (a dim_param) matches any size.
            assert back.shape == tuple(a.shape) and all(
                isinstance(d, str) or d == n
                for d, n in zip(dims_of(vi), a.shape)) and \
                len(dims_of(vi)) == len(a.shape), \
                (kind, i, back.shape, tuple(a.shape), dims_of(vi))
            assert back.dtype == a.numpy().dtype
            assert np.array_equal(back, a.numpy())


ALL_OPS = collections.Counter()


def report(name, m, path, refs, dt, dt_export):
    ops = collections.Counter(n.op_type for n in m.graph.node)
    ALL_OPS.update(ops)
    opsets = ", ".join("%s:%d" % (o.domain or "ai.onnx", o.version)
                       for o in m.opset_import)
    print("== %s  opset %s  %.1f KiB  %d nodes  %.2fs (export %.2fs)"
          % (name, opsets, os.path.getsize(path) / 1024, len(m.graph.node),
             dt, dt_export))
    print("   ops: " + ", ".join("%s x%d" % (k, ops[k]) for k in sorted(ops)))
    for o, r in zip(m.graph.output, refs):
        a = r.numpy()
        print("   %s %s: min %.4g max %.4g mean|x| %.4g"
              % (o.name, list(a.shape), a.min(), a.max(), np.abs(a).mean()))
    sys.stdout.flush()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("outdir")
    p.add_argument("--set", dest="set", choices=list(SETS), default="spine",
                   help="which models: spine (default; the e2e tests' set), "
                   "zoo (%s, each also _b4, _opset17, _opset17_b4), all "
                   "(spine and zoo), bench (%s; bench/bench.py's) or "
                   "transformers (%s, each at opset 14 and 17, batch 1 and 2) "
                   "or conv_nd (%s)"
                   % (", ".join(ZOO_BASE), ", ".join(BENCH),
                      ", ".join(TRANSFORMER_BASE), ", ".join(CONV_ND)))
    p.add_argument("--only", help="comma-separated model names from any set, "
                   "instead of --set (spine: %s)" % ",".join(MODELS))
    p.add_argument("--opset", type=int, default=13,
                   help="opset for spine models without a fixed one "
                   "(default 13; the zoo's names fix theirs)")
    p.add_argument("--force", action="store_true",
                   help="regenerate even if the stamp matches")
    a = p.parse_args(argv)

    names = list(SETS[a.set])
    if a.only:
        names = [n for n in a.only.split(",") if n]
        # Every model is in some set ("all" repeats spine and zoo).
        known = [m for k, v in SETS.items() if k != "all" for m in v]
        bad = [n for n in names if n not in known]
        if bad:
            p.error("unknown model(s) %s; known: %s"
                    % (",".join(bad), ",".join(known)))

    torch.set_grad_enabled(False)
    os.makedirs(a.outdir, exist_ok=True)
    failed = []
    t0 = time.time()
    for n in names:
        try:
            export_one(n, a.outdir, a.opset, a.force)
        except Exception as e:  # keep going, fail at the end
            import traceback
            traceback.print_exc()
            print("== %s: FAILED: %s: %s" % (n, type(e).__name__, e))
            failed.append(n)
    if ALL_OPS:
        print("== union of op types (%d): %s"
              % (len(ALL_OPS), ", ".join(sorted(ALL_OPS))))
    print("== %d model(s), %d failed%s, %.1fs"
          % (len(names), len(failed),
             (": " + ",".join(failed)) if failed else "", time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
