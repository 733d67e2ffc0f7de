#!/usr/bin/env python3
# peer_pytorch.py — the Figure 6 job (tanh, input 1024, 5 x 1000, standard init, N(0,1) inputs) in
# PyTorch on the same GPU, computing per trial and layer the statistics initscope reports for
# pre-activations and activations (mean, std, min, max, quantiles 2/50/98, a 100-bin histogram
# with under/overflow, saturation): (a) an eager loop over trials as a user would write it,
# (b) the best batched form (torch.bmm over trials). Prints trials/s for both; never asserts.
#
#   python3 tests/bench/peer_pytorch.py [--trials 2048] [--samples 256] [--chunk 64] [--eager-trials 64]
import argparse
import math
import time

import torch

WIDTHS = [1024, 1000, 1000, 1000, 1000, 1000]
QUANTILES = (0.02, 0.50, 0.98)
BINS = 100
RANGES = {"pre": (-5.0, 5.0), "act": (-1.0, 1.0)}
SATURATION = 0.99


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


def stats_batched(x, lo, hi, saturation):
    """Per-trial statistics of a (trials x samples x width) tensor, batched over trials."""
    t = x.shape[0]
    flat = x.reshape(t, -1)
    out = {
        "mean": flat.mean(dim=1),
        "std": flat.std(dim=1),
        "min": flat.amin(dim=1),
        "max": flat.amax(dim=1),
        # torch.quantile sorts; its input is limited to 2^24 elements, so chunks stay below that.
        "q": torch.quantile(flat, torch.tensor(QUANTILES, device=x.device), dim=1),
    }
    # Histogram per trial: bin index + trial offset, one bincount for the whole batch.
    width = (hi - lo) / BINS
    idx = torch.floor((flat - lo) / width).clamp_(-1, BINS).long() + 1  # 0 under, 1..BINS, BINS+1 over
    idx = torch.where(flat == hi, torch.full_like(idx, BINS), idx)      # last bin closed
    offs = (torch.arange(t, device=x.device) * (BINS + 2)).unsqueeze(1)
    out["hist"] = torch.bincount((idx + offs).flatten(), minlength=t * (BINS + 2)).reshape(t, BINS + 2)
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


def timed(f):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    f()
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--trials", type=int, default=2048, help="trials of the batched form")
    p.add_argument("--eager-trials", type=int, default=64, help="trials of the eager loop (slow)")
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--chunk", type=int, default=64, help="trials per bmm batch (memory, quantile limit)")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("peer_pytorch.py: no CUDA device visible to PyTorch")
    if args.chunk * args.samples * WIDTHS[1] > 2**24:
        raise SystemExit("peer_pytorch.py: --chunk x --samples x 1000 must be <= 2^24 (torch.quantile's limit)")
    device = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # FP32 GEMMs, as initscope
    torch.backends.cudnn.allow_tf32 = False

    run_eager(2, args.samples, device)  # warm-up
    run_batched(args.chunk, args.samples, args.chunk, device)
    t_eager = min(timed(lambda: run_eager(args.eager_trials, args.samples, device)) for _ in range(args.repeats))
    t_batched = min(timed(lambda: run_batched(args.trials, args.samples, args.chunk, device))
                    for _ in range(args.repeats))
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()}: Figure 6 job, {args.samples} samples, "
          f"best of {args.repeats}")
    print(f"  eager loop over trials  {args.eager_trials:6d} trials  {t_eager:8.3f} s  "
          f"{args.eager_trials / t_eager:9.1f} trials/s")
    print(f"  batched (bmm, chunks of {args.chunk})  {args.trials:6d} trials  {t_batched:8.3f} s  "
          f"{args.trials / t_batched:9.1f} trials/s")


if __name__ == "__main__":
    main()
