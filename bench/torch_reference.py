#!/usr/bin/python3
"""Contender (c): the reference method of the paper's code (Sun et al. 2024, "Massive Activations in Large
Language Models"): run the model in PyTorch with forward hooks on every block, and per image and layer take
the top-k of |a| and the median of |a| of the hidden state.

Same weights: the ViT is built here as plain torch modules laid out like Hugging Face's ViTModel (pre-norm
blocks, exact GELU, LayerNorm eps from config.json), and its weights are read from the ONNX file's
initializers with onnx.numpy_helper (MatMul weights are found through the bias Add that follows them).
`--check` compares every hidden state with ONNX Runtime's on the same input tensor.

Same preprocessing, other decoder: PIL decodes, converts to RGB and resizes to the processor's size with its
resample filter (bicubic here), then rescale and normalize — what ViTImageProcessor does; massivit uses
sharp/libvips for the same steps (the pixels differ slightly; the cost per image is comparable). Decoding
runs in a thread pool (PIL releases the GIL) so it overlaps the forward pass, as massivit's pipeline does.

Run with Debian's /usr/bin/python3 (python3-torch, with libopenblas0-pthread: without it torch falls back to
the reference BLAS and runs ~8x slower, which would be an unfair baseline).

Usage:
  torch_reference.py run <model dir> <image dir> --threads T --batch B [--top-k 16]   -> one JSON line
  torch_reference.py check <model dir> <check.bin>                                    -> one JSON line
"""
import argparse
import json
import math
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from PIL import Image
from torch import nn

EXTENSIONS = {'.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.bmp', '.gif'}


def onnx_weights(path):
    """Initializers by their torch name; MatMul weights (exported as onnx::MatMul_*) named after their bias."""
    model = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consumers = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    weights = {k: v for k, v in inits.items() if not k.startswith('onnx::')}
    for node in model.graph.node:
        if node.op_type != 'MatMul' or node.input[1] not in inits:
            continue
        for add in consumers.get(node.output[0], []):
            bias = [i for i in add.input if i in inits and i.endswith('.bias')]
            if add.op_type == 'Add' and bias:
                weights[bias[0][: -len('bias')] + 'weight'] = inits[node.input[1]].T  # Linear stores [out, in]
    return weights


class Block(nn.Module):
    """One pre-norm ViT block, as HF ViTLayer: x + attn(ln1(x)), then + mlp(ln2(.))."""

    def __init__(self, dim, heads, hidden, eps):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim, eps=eps)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        self.ln2 = nn.LayerNorm(dim, eps=eps)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln1(x)
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x))))


class ViT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, p = cfg['hidden_size'], cfg['patch_size']
        self.patch = nn.Conv2d(3, d, p, stride=p)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        tokens = (cfg['image_size'] // p) ** 2 + 1
        self.pos = nn.Parameter(torch.zeros(1, tokens, d))
        self.embed = nn.Identity()  # hooked: hidden_states[0]
        eps = cfg.get('layer_norm_eps', 1e-12)
        self.blocks = nn.ModuleList(Block(d, cfg['num_attention_heads'], cfg['intermediate_size'], eps) for _ in range(cfg['num_hidden_layers']))

    def forward(self, pixels):
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        x = self.embed(torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos)
        for block in self.blocks:
            x = block(x)
        return x

    def load_onnx(self, w):
        t = lambda name: torch.from_numpy(np.array(w[name], dtype=np.float32))
        with torch.no_grad():
            self.patch.weight.copy_(t('vit.embeddings.patch_embeddings.projection.weight'))
            self.patch.bias.copy_(t('vit.embeddings.patch_embeddings.projection.bias'))
            self.cls.copy_(t('vit.embeddings.cls_token'))
            self.pos.copy_(t('vit.embeddings.position_embeddings'))
            for i, blk in enumerate(self.blocks):
                pre = f'vit.encoder.layer.{i}.'
                pairs = [(blk.ln1, 'layernorm_before'), (blk.ln2, 'layernorm_after'), (blk.q, 'attention.attention.query'),
                         (blk.k, 'attention.attention.key'), (blk.v, 'attention.attention.value'),
                         (blk.o, 'attention.output.dense'), (blk.fc1, 'intermediate.dense'), (blk.fc2, 'output.dense')]
                for mod, name in pairs:
                    mod.weight.copy_(t(pre + name + '.weight'))
                    mod.bias.copy_(t(pre + name + '.bias'))
        return self


def load(model_dir):
    cfg = json.load(open(os.path.join(model_dir, 'config.json')))
    pre = json.load(open(os.path.join(model_dir, 'preprocessor_config.json')))
    model = ViT(cfg).load_onnx(onnx_weights(os.path.join(model_dir, 'model.onnx'))).eval()
    return model, pre


def preprocess(path, pre):
    size = pre['size']
    img = Image.open(path).convert('RGB').resize((size['width'], size['height']), resample=pre.get('resample', 3))
    x = np.asarray(img, dtype=np.float32) * pre.get('rescale_factor', 1 / 255)
    x = (x - np.array(pre['image_mean'], np.float32)) / np.array(pre['image_std'], np.float32)
    return x.transpose(2, 0, 1)


def hooked(model, top_k, results):
    """Forward hooks on the embeddings and every block: top-k and median of |a|, per image (the paper's method)."""
    def hook(layer):
        def fn(_module, _inputs, output):
            for b in range(output.shape[0]):
                a = output[b].abs().flatten()
                values, indices = torch.topk(a, top_k)
                results.append((layer, values, indices, torch.median(a)))
        return fn
    model.embed.register_forward_hook(hook(0))
    for i, block in enumerate(model.blocks):
        block.register_forward_hook(hook(i + 1))


def run(args):
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    model, pre = load(args.model)
    results = []
    hooked(model, args.top_k, results)
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(args.images) for f in fs if os.path.splitext(f)[1].lower() in EXTENSIONS)
    images = 0
    with torch.inference_mode(), ThreadPoolExecutor(max_workers=2) as pool:
        pending = pool.map(lambda p: preprocess(p, pre), files)  # decodes ahead of the forward pass
        batch = []
        for x in pending:
            batch.append(x)
            if len(batch) == args.batch:
                model(torch.from_numpy(np.stack(batch)))
                images += len(batch)
                batch = []
                results.clear()  # the paper's code keeps these; clearing keeps memory flat for the benchmark
        if batch:
            model(torch.from_numpy(np.stack(batch)))
            images += len(batch)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({'images': images, 'seconds': seconds, 'cpuSeconds': usage.ru_utime + usage.ru_stime,
                      'maxRssMiB': usage.ru_maxrss / 1024, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))


def check(args):
    """check.bin (written by bench/check-dump.mjs): n, then n pixel tensors, then ORT hidden states [layers, n, T, D]."""
    model, _ = load(args.model)
    raw = np.fromfile(args.check, dtype=np.float32)
    n, layers, t, d, h, w = (int(v) for v in raw[:6])
    pixels = raw[6: 6 + n * 3 * h * w].reshape(n, 3, h, w)
    ort = raw[6 + n * 3 * h * w:].reshape(layers, n, t, d)
    states = []
    model.embed.register_forward_hook(lambda _m, _i, o: states.append(o))
    for block in model.blocks:
        block.register_forward_hook(lambda _m, _i, o: states.append(o))
    with torch.inference_mode():
        model(torch.from_numpy(pixels.copy()))
    diffs = [float((states[i].numpy() - ort[i]).__abs__().max()) for i in range(layers)]
    medians_torch = [float(torch.median(states[i][0].abs().flatten())) for i in range(layers)]
    medians_ort = [float(np.sort(np.abs(ort[i][0]).flatten())[(t * d - 1) // 2]) for i in range(layers)]
    print(json.dumps({'layers': layers, 'images': n, 'maxAbsDiff': max(diffs), 'maxAbsDiffPerLayer': diffs,
                      'maxAbsActivation': float(np.abs(ort).max()),
                      'medianRelDiff': max(abs(a - b) / b for a, b in zip(medians_torch, medians_ort))}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('model')
    r.add_argument('images')
    r.add_argument('--threads', type=int, required=True)
    r.add_argument('--batch', type=int, default=8)
    r.add_argument('--top-k', type=int, default=16)
    c = sub.add_parser('check')
    c.add_argument('model')
    c.add_argument('check')
    args = p.parse_args()
    (run if args.cmd == 'run' else check)(args)


if __name__ == '__main__':
    sys.exit(main())
