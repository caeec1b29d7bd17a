#!/usr/bin/python3
"""Export Kiln's test models from torch with seeded random weights.

Usage: generate.py OUTDIR [--set spine|zoo|all|bench] [--only NAME[,NAME...]]
                     [--opset N] [--force]

Two sets of models: "spine" (the default; what the e2e ctest fixture runs)
and "zoo" (more torchvision CNNs and an LSTM, each at opset 13 and 17 and at
batch 1 and 4). --only picks models by name from any set. A third set,
"bench", holds the larger models that only bench/bench.py times (a 4-layer
BERT-style encoder at sequence 128, ResNet-18 at batch 8); "all" is spine and
zoo, without it.

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

SETS = collections.OrderedDict([
    ("spine", SPINE),
    ("zoo", list(ZOO)),
    ("all", SPINE + list(ZOO)),
    ("bench", list(BENCH)),
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
    if name in ZOO:
        builder, inputs, opset = ZOO[name]
        version = ZOO_VERSION
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
                          input_names=in_names, output_names=out_names)
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
            assert back.shape == tuple(a.shape) == dims_of(vi), \
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
                   "(spine and zoo) or bench (%s; bench/bench.py's)"
                   % (", ".join(ZOO_BASE), ", ".join(BENCH)))
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
        bad = [n for n in names
               if n not in MODELS and n not in ZOO and n not in BENCH]
        if bad:
            p.error("unknown model(s) %s; known: %s"
                    % (",".join(bad), ",".join(SETS["all"] + SETS["bench"])))

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
