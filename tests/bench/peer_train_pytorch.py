#!/usr/bin/env python3
# peer_train_pytorch.py — the peer of initscope_bench_train: T tanh networks (1024 inputs, DEPTH hidden
# layers of WIDTH, 9 classes, softmax + NLL) trained side by side by plain SGD on minibatches of 10,
# in PyTorch on the CPU: (a) a loop over T separate nn.Sequential models, each with its own
# torch.optim.SGD, as a user would write it; (b) the batched form (torch.baddbmm over the T stacked
# weights, autograd, one update of all). Prints network-updates per second for T = 1, 16, 64; never
# asserts. Same shapes and threads as the engine's benchmark, for ratios side by side.
#
#   python3 tests/bench/peer_train_pytorch.py [--width 1000] [--depth 5] [--steps 20] [--threads N] [--device cuda]
import argparse
import os
import time

import torch


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def updates_per_second(step, steps, T, device):
    """Network-updates per second of `steps` calls of step() (T networks each), after one warm-up."""
    step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return steps * T / (time.perf_counter() - t0)


def eager(T, widths, steps, device, B=10):
    models = []
    for _ in range(T):
        layers = []
        for i in range(len(widths) - 1):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            if i + 2 < len(widths):
                layers.append(torch.nn.Tanh())
        models.append(torch.nn.Sequential(*layers).to(device))
    opts = [torch.optim.SGD(m.parameters(), lr=0.01) for m in models]
    x = torch.full((B, widths[0]), 0.3, device=device)
    y = torch.arange(B, device=device) % widths[-1]
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        for m, o in zip(models, opts):
            o.zero_grad(set_to_none=True)
            loss_fn(m(x), y).backward()
            o.step()

    return updates_per_second(step, steps, T, device)


def batched(T, widths, steps, device, B=10):
    W = [torch.nn.init.xavier_uniform_(torch.empty(T, widths[i + 1], widths[i], device=device)).requires_grad_()
         for i in range(len(widths) - 1)]
    b = [torch.zeros(T, 1, widths[i + 1], device=device, requires_grad=True) for i in range(len(widths) - 1)]
    x = torch.full((T, B, widths[0]), 0.3, device=device)
    y = (torch.arange(T * B, device=device) % widths[-1])

    def step():
        h = x
        for i in range(len(W)):
            s = torch.baddbmm(b[i], h, W[i].transpose(1, 2))
            h = torch.tanh(s) if i + 1 < len(W) else s
        loss = torch.nn.functional.cross_entropy(h.reshape(T * B, -1), y, reduction="sum") / B
        grads = torch.autograd.grad(loss, W + b)
        with torch.no_grad():
            for p, g in zip(W + b, grads):
                p -= 0.01 * g

    return updates_per_second(step, steps, T, device)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    widths = [1024] + [a.width] * a.depth + [9]
    print(f"PyTorch {torch.__version__}, networks 1024-{a.width}x{a.depth}-9 tanh, minibatch 10, "
          f"{a.steps} steps, {a.device}, {a.threads} threads")
    print(f"{'T':>6} {'eager loop':>14} {'batched (bmm)':>14}   (network-updates per second)")
    for T in (1, 16, 64):
        print(f"{T:>6} {eager(T, widths, a.steps, a.device):>14.1f} {batched(T, widths, a.steps, a.device):>14.1f}",
              flush=True)


if __name__ == "__main__":
    main()
