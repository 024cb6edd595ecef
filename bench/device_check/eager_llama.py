#!/usr/bin/env python3
"""PyTorch eager reference timings for bench/gpu_check.sh: the same real-size layers as gpu_check, written with
torch.nn in the way the official code runs them (transformers 4.29 LLaMA math, HF-style concatenated KV cache,
bf16 on the GPU), measured on the same device in the same call, so gpu_check's figures can be given as ratios.

Usage: eager_llama.py [--device cuda] [--layers 2] [--prefill 650] [--decode 16] [--json OUT]
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

D, I, H, V = 4096, 11008, 32, 32007


def sync(t):
    if t.is_cuda:
        torch.cuda.synchronize(t.device)


class RMSNorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(D))

    def forward(self, x):
        var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + 1e-6)).to(self.weight.dtype)


def rope(start, n, device, dtype):
    inv = 1.0 / (10000 ** (torch.arange(0, 128, 2, device=device).float() / 128))
    t = torch.arange(start, start + n, device=device, dtype=torch.float32)
    emb = torch.cat([torch.outer(t, inv)] * 2, dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    return torch.cat([-x[..., 64:], x[..., :64]], dim=-1)


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)
        self.q, self.k, self.v, self.o = lin(D, D), lin(D, D), lin(D, D), lin(D, D)
        self.gate, self.up, self.down = lin(D, I), lin(D, I), lin(I, D)
        self.n1, self.n2 = RMSNorm(), RMSNorm()

    def forward(self, x, cache):
        b, t, _ = x.shape
        past = cache[0].shape[2] if cache is not None else 0
        h = self.n1(x)
        q = self.q(h).view(b, t, H, 128).transpose(1, 2)
        k = self.k(h).view(b, t, H, 128).transpose(1, 2)
        v = self.v(h).view(b, t, H, 128).transpose(1, 2)
        cos, sin = rope(past, t, x.device, x.dtype)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(128)
        if t > 1:
            mask = torch.full((t, past + t), torch.finfo(x.dtype).min, device=x.device, dtype=x.dtype).triu(past + 1)
            s = torch.max(s + mask, torch.tensor(torch.finfo(x.dtype).min, device=x.device, dtype=x.dtype))
        p = F.softmax(s, dim=-1, dtype=torch.float32).to(x.dtype)
        o = torch.matmul(p, v).transpose(1, 2).reshape(b, t, D)
        x = x + self.o(o)
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h)), (k, v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--prefill", type=int, default=650)
    ap.add_argument("--decode", type=int, default=16)
    ap.add_argument("--json")
    a = ap.parse_args()
    dev, dt = torch.device(a.device), torch.bfloat16
    torch.manual_seed(0)
    with torch.inference_mode():
        layers = [Layer().to(dev, dt) for _ in range(a.layers)]
        norm, head = RMSNorm().to(dev, dt), torch.nn.Linear(D, V, bias=False).to(dev, dt)
        scale = 32.0 / a.layers

        def run(x, caches):
            out = []
            for l, c in zip(layers, caches):
                x, c2 = l(x, c)
                out.append(c2)
            return norm(x), out

        x = torch.randn(1, a.prefill, D, device=dev, dtype=dt)
        run(x[:, :64], [None] * a.layers)  # warm-up
        sync(x)
        t0 = time.perf_counter()
        h, caches = run(x, [None] * a.layers)
        sync(h)
        prefill = (time.perf_counter() - t0) * scale

        def decode(batch, caches):
            """Seconds per pass of one token for `batch` sequences (32-layer scaled) + lm_head."""
            total = 0.0
            for k in range(a.decode + 1):
                xt = torch.randn(batch, 1, D, device=dev, dtype=dt)
                sync(xt)
                t0 = time.perf_counter()
                h, caches = run(xt, caches)
                sync(h)
                t1 = time.perf_counter()
                head(h[:, -1])
                sync(h)
                if k:  # step 0 warms the decode path
                    total += (t1 - t0) * scale + (time.perf_counter() - t1)
            return total / a.decode

        per_token = decode(1, caches)
        # Batch 8 with a 16-token cache each (same lengths: no padding needed).
        _, cb = run(torch.randn(8, 16, D, device=dev, dtype=dt), [None] * a.layers)
        per_pass = decode(8, cb)
    r = {"device": str(dev), "torch": torch.__version__, "layers_measured": a.layers, "prefill_tokens": a.prefill,
         "prefill_s": prefill, "prefill_tokens_per_s": a.prefill / prefill, "decode_s_per_token": per_token,
         "decode_tokens_per_s_batch1": 1 / per_token, "batch8_s_per_pass": per_pass,
         "decode_tokens_per_s_batch8": 8 / per_pass}
    print("  PyTorch eager LLaMA-7B bf16 (%d of 32 layers): prefill %d tokens %.2f s (%.0f tokens/s); decode %.4f "
          "s/token (%.1f tokens/s); batch 8 %.4f s per pass (%.1f tokens/s)"
          % (a.layers, a.prefill, prefill, a.prefill / prefill, per_token, 1 / per_token, per_pass, 8 / per_pass))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
