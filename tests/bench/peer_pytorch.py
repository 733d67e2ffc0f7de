#!/usr/bin/env python3
# peer_pytorch.py — the peer of initscope_bench_gpu: the Figure 6 job (tanh, input 1024, 5 x 1000,
# standard init, N(0,1) inputs) in PyTorch on the same device, computing per trial and layer the
# statistics initscope reports for pre-activations and activations (mean, std, min, max, exact
# quantiles 2/50/98, a 100-bin histogram with under/overflow, saturation):
#   (a) an eager loop over trials as a user would write it,
#   (b) the best batched form (torch.bmm over trials),
#   (c) the Figures 6-8 forward+backward job batched with autograd (initscope_bench_gpu ... backward):
#       a 10-class softmax output, random targets, mean NLL over the samples; beside the forward
#       statistics, the same statistics of the back-propagated gradients dC/ds and the weight
#       gradients dC/dW of every hidden layer, their histograms on initscope's symmetric-log bins
#       (stats.gradient_linthresh 1e-10, stats.gradient_max 10). Exact quantiles of the weight
#       gradients (10^6 values per trial) exceed torch.quantile's 2^24-element limit, so (c) takes
#       its order statistics from torch.sort or torch.kthvalue, whichever was faster on the warm-up
#       chunk, with numpy's linear interpolation, as initscope does.
# Prints trials/s of each; never asserts. --device cpu runs it on the CPU (Debian's python3-torch).
#
#   python3 tests/bench/peer_pytorch.py [--trials 2048] [--samples 256] [--chunk 64] [--eager-trials 64]
#                                       [--backward-chunk 32] [--modes eager,batched,backward] [--device cuda]
import argparse
import math
import time

import torch
import torch.nn.functional as F

WIDTHS = [1024, 1000, 1000, 1000, 1000, 1000]
CLASSES = 10  # initscope's default network.output, as in initscope_bench_gpu
QUANTILES = (0.02, 0.50, 0.98)
BINS = 100
RANGES = {"pre": (-5.0, 5.0), "act": (-1.0, 1.0)}
SATURATION = 0.99
# Gradients are binned by u = sign(x) log10(1 + |x| / LINTHRESH) on [-U, U], U = log10(1 + MAX / LINTHRESH).
GRAD_LINTHRESH = 1e-10
GRAD_MAX = 10.0
GRAD_U = math.log10(1.0 + GRAD_MAX / GRAD_LINTHRESH)


def stats_eager(x, lo, hi, saturation):
    """Per-trial statistics of one quantity, one tensor (samples x width), the obvious way."""
    flat = x.flatten()
    out = {
        "mean": flat.mean(),
        "std": flat.std(),
        "min": flat.min(),
        "max": flat.max(),
        "q": torch.quantile(flat, torch.tensor(QUANTILES, device=x.device)),
        "hist": torch.histc(flat, bins=BINS, min=lo, max=hi),
        "under": (flat < lo).sum(),
        "over": (flat > hi).sum(),
    }
    if saturation:
        out["sat"] = (flat.abs() >= SATURATION).float().mean()
    return out


def run_eager(trials, samples, device):
    for _ in range(trials):
        h = torch.randn(samples, WIDTHS[0], device=device)
        for n_in, n_out in zip(WIDTHS[:-1], WIDTHS[1:]):
            a = 1.0 / math.sqrt(n_in)
            w = torch.empty(n_out, n_in, device=device).uniform_(-a, a)
            s = h @ w.t()
            h = torch.tanh(s)
            stats_eager(s, *RANGES["pre"], False)
            stats_eager(h, *RANGES["act"], True)


def histogram_batched(u, lo, hi):
    """Per-row counts of (rows x n) coordinates u in BINS bins on [lo, hi], with under- and overflow."""
    t = u.shape[0]
    width = (hi - lo) / BINS
    idx = torch.floor((u - lo) / width).clamp_(-1, BINS).long() + 1  # 0 under, 1..BINS, BINS+1 over
    idx = torch.where(u == hi, torch.full_like(idx, BINS), idx)  # last bin closed
    offs = (torch.arange(t, device=u.device) * (BINS + 2)).unsqueeze(1)
    return torch.bincount((idx + offs).flatten(), minlength=t * (BINS + 2)).reshape(t, BINS + 2)


def row_stats(flat, quantiles):
    """Mean, std, min, max and quantiles of each row of (trials x n)."""
    return {
        "mean": flat.mean(dim=1),
        "std": flat.std(dim=1),
        "min": flat.amin(dim=1),
        "max": flat.amax(dim=1),
        "q": quantiles(flat),
    }


def stats_batched(x, lo, hi, saturation):
    """Per-trial statistics of a (trials x samples x width) tensor, batched over trials."""
    t = x.shape[0]
    flat = x.reshape(t, -1)
    # torch.quantile sorts; its input is limited to 2^24 elements, so chunks stay below that.
    out = row_stats(flat, lambda f: torch.quantile(f, torch.tensor(QUANTILES, device=f.device), dim=1))
    out["hist"] = histogram_batched(flat, lo, hi)
    if saturation:
        out["sat"] = (flat.abs() >= SATURATION).float().mean(dim=1)
    return out


def run_batched(trials, samples, chunk, device):
    for first in range(0, trials, chunk):
        t = min(chunk, trials - first)
        h = torch.randn(t, samples, WIDTHS[0], device=device)
        for n_in, n_out in zip(WIDTHS[:-1], WIDTHS[1:]):
            a = 1.0 / math.sqrt(n_in)
            w = torch.empty(t, n_out, n_in, device=device).uniform_(-a, a)
            s = torch.bmm(h, w.transpose(1, 2))
            h = torch.tanh(s)
            stats_batched(s, *RANGES["pre"], False)
            stats_batched(h, *RANGES["act"], True)


# --- (c) forward + backward -------------------------------------------------------------------

def quantile_ranks(n):
    """For each quantile: ranks r0, r1 (0-based) and the weight of r1, numpy's linear interpolation."""
    out = []
    for q in QUANTILES:
        pos = q * (n - 1)
        r0 = int(math.floor(pos))
        out.append((r0, min(r0 + 1, n - 1), pos - r0))
    return out


def quantiles_sort(flat):
    """Exact quantiles of each row of (rows x n) from one sort of every row."""
    v = torch.sort(flat, dim=1).values
    return torch.stack([v[:, r0] + f * (v[:, r1] - v[:, r0]) for r0, r1, f in quantile_ranks(flat.shape[1])], dim=1)


def quantiles_kthvalue(flat):
    """Exact quantiles of each row of (rows x n) from selections of the ranks they need."""
    cols = []
    for r0, r1, f in quantile_ranks(flat.shape[1]):
        v0 = torch.kthvalue(flat, r0 + 1, dim=1).values
        v1 = torch.kthvalue(flat, r1 + 1, dim=1).values if f > 0 else v0
        cols.append(v0 + f * (v1 - v0))
    return torch.stack(cols, dim=1)


QUANTILE_METHODS = {"sort": quantiles_sort, "kthvalue": quantiles_kthvalue}


def stats_full(x, kind, quantiles):
    """Per-trial statistics of a (trials x ...) tensor: moments, extremes, exact quantiles, histogram
    (linear bins for "pre" and "act", symmetric-log bins for gradients), saturation for "act"."""
    t = x.shape[0]
    flat = x.reshape(t, -1)
    out = row_stats(flat, quantiles)
    if kind in RANGES:
        out["hist"] = histogram_batched(flat, *RANGES[kind])
    else:
        u = torch.sign(flat) * torch.log10(1.0 + flat.abs() / GRAD_LINTHRESH)
        out["hist"] = histogram_batched(u, -GRAD_U, GRAD_U)
    if kind == "act":
        out["sat"] = (flat.abs() >= SATURATION).float().mean(dim=1)
    return out


def backward_chunk(t, samples, device, quantiles):
    """One chunk of t trials of the forward+backward job: autograd through the stacked networks."""
    h = torch.randn(t, samples, WIDTHS[0], device=device)
    weights, pre = [], []
    for n_in, n_out in zip(WIDTHS[:-1] + [WIDTHS[-1]], WIDTHS[1:] + [CLASSES]):
        a = 1.0 / math.sqrt(n_in)
        w = torch.empty(t, n_out, n_in, device=device).uniform_(-a, a).requires_grad_()
        s = torch.bmm(h, w.transpose(1, 2))
        if len(pre) == len(WIDTHS) - 1:  # the output layer: logits
            z = s
            break
        s.retain_grad()
        h = torch.tanh(s)
        with torch.no_grad():
            stats_full(s, "pre", quantiles)
            stats_full(h, "act", quantiles)
        weights.append(w)
        pre.append(s)
    y = torch.randint(CLASSES, (t * samples,), device=device)
    # Each trial's mean NLL over its samples; their sum keeps every trial's gradients its own.
    loss = F.cross_entropy(z.reshape(-1, CLASSES), y, reduction="sum") / samples
    loss.backward()
    with torch.no_grad():
        for w, s in zip(weights, pre):
            stats_full(s.grad, "grad", quantiles)
            stats_full(w.grad, "grad", quantiles)


def run_backward(trials, samples, chunk, device, quantiles):
    for first in range(0, trials, chunk):
        backward_chunk(min(chunk, trials - first), samples, device, quantiles)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(f, device):
    sync(device)
    t0 = time.perf_counter()
    f()
    sync(device)
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--trials", type=int, default=2048, help="trials of the batched forms")
    p.add_argument("--eager-trials", type=int, default=64, help="trials of the eager loop (slow)")
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--chunk", type=int, default=64, help="trials per bmm batch (memory, quantile limit)")
    p.add_argument("--backward-chunk", type=int, default=32, help="trials per batch of the forward+backward job")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--modes", default="eager,batched,backward", help="which of eager, batched, backward to run")
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (torch.set_num_threads); 0: PyTorch's choice")
    args = p.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in ("eager", "batched", "backward"):
            raise SystemExit(f"peer_pytorch.py: --modes: unknown mode '{m}' (eager, batched, backward)")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("peer_pytorch.py: no CUDA device visible to PyTorch (--device cpu runs it on the CPU)")
    if "batched" in modes and args.chunk * args.samples * WIDTHS[1] > 2**24:
        raise SystemExit("peer_pytorch.py: --chunk x --samples x 1000 must be <= 2^24 (torch.quantile's limit)")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # FP32 GEMMs, as initscope
        torch.backends.cudnn.allow_tf32 = False
        name = torch.cuda.get_device_name()
    else:
        n = torch.get_num_threads()
        name = f"the CPU, {n} thread{'' if n == 1 else 's'}"
    print(f"PyTorch {torch.__version__} on {name}: Figure 6 job (tanh, 5 x 1000, input 1024), {args.samples} samples, "
          f"best of {args.repeats}", flush=True)

    if "eager" in modes:
        run_eager(2, args.samples, device)  # warm-up
        t = min(timed(lambda: run_eager(args.eager_trials, args.samples, device), device) for _ in range(args.repeats))
        print(f"  eager loop over trials  {args.eager_trials:6d} trials  {t:8.3f} s  "
              f"{args.eager_trials / t:9.1f} trials/s", flush=True)
    if "batched" in modes:
        run_batched(args.chunk, args.samples, args.chunk, device)  # warm-up
        t = min(timed(lambda: run_batched(args.trials, args.samples, args.chunk, device), device)
                for _ in range(args.repeats))
        print(f"  batched (bmm, chunks of {args.chunk})  {args.trials:6d} trials  {t:8.3f} s  "
              f"{args.trials / t:9.1f} trials/s", flush=True)
    if "backward" in modes:
        # Warm-up, one chunk with each way to the quantiles; the faster one is timed.
        c = min(args.backward_chunk, args.trials)
        for f in QUANTILE_METHODS.values():
            backward_chunk(c, args.samples, device, f)
        took = {k: timed(lambda f=f: backward_chunk(c, args.samples, device, f), device)
                for k, f in QUANTILE_METHODS.items()}
        best = min(took, key=took.get)
        t = min(timed(lambda: run_backward(args.trials, args.samples, c, device, QUANTILE_METHODS[best]), device)
                for _ in range(args.repeats))
        print(f"  forward+backward (bmm + autograd, chunks of {c}, quantiles by {best}: "
              + ", ".join(f"{k} {v:.3f} s" for k, v in took.items()) + f" a chunk)  {args.trials:6d} trials  "
              f"{t:8.3f} s  {args.trials / t:9.1f} trials/s", flush=True)


if __name__ == "__main__":
    main()
