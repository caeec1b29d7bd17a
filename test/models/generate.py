#!/usr/bin/python3
"""Export Kiln's test models from torch with seeded random weights.

Usage: generate.py OUTDIR [--only NAME[,NAME...]] [--opset N] [--force]

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
# are then regenerated instead of skipped.
GENERATOR_VERSION = "kiln-models-1"

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


def tv(name):
    def build():
        import torchvision
        return getattr(torchvision.models, name)(weights=None)
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


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------

def stamp_text(opset):
    return "%s opset=%d torch=%s\n" % (GENERATOR_VERSION, opset, torch.__version__)


def up_to_date(mdir, n_in, n_out, opset):
    files = [os.path.join(mdir, "model.onnx")]
    tdir = os.path.join(mdir, "test_data_set_0")
    files += [os.path.join(tdir, "input_%d.pb" % i) for i in range(n_in)]
    files += [os.path.join(tdir, "output_%d.pb" % i) for i in range(n_out)]
    try:
        with open(os.path.join(mdir, ".stamp")) as f:
            if f.read() != stamp_text(opset):
                return False
    except OSError:
        return False
    return all(os.path.isfile(p) for p in files)


def write_pb(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(arr), name)
                .SerializeToString())


def export_one(name, outdir, opset, force):
    builder, inputs, fixed_opset = MODELS[name]
    if fixed_opset is not None:
        opset = fixed_opset
    mdir = os.path.join(outdir, name)
    if not force and up_to_date(mdir, len(inputs), 1, opset):
        print("== %s: up to date, skipped" % name)
        return True

    t0 = time.time()
    # Seed per model so --only gives the same files as a full run.
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = builder()
    randomize_params(model, gen)
    if name.startswith("resnet"):
        tame_residuals(model)
    model.eval()
    args = tuple(make(gen, shape) for _, make, shape in inputs)
    in_names = [n for n, _, _ in inputs]
    out_names = ["output"]

    with torch.no_grad():
        ref = model(*args)
    refs = [ref] if isinstance(ref, torch.Tensor) else list(ref)

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
        f.write(stamp_text(opset))

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
    p.add_argument("--only", help="comma-separated model names (%s)"
                   % ",".join(MODELS))
    p.add_argument("--opset", type=int, default=13,
                   help="opset for models without a fixed one (default 13)")
    p.add_argument("--force", action="store_true",
                   help="regenerate even if the stamp matches")
    a = p.parse_args(argv)

    names = list(MODELS)
    if a.only:
        names = [n for n in a.only.split(",") if n]
        bad = [n for n in names if n not in MODELS]
        if bad:
            p.error("unknown model(s) %s; known: %s"
                    % (",".join(bad), ",".join(MODELS)))

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
