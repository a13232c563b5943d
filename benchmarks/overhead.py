"""W1, per-op overhead: forward and backward of ((a * b) + c).sum() on 16×16 float32 tensors.

Three ops (mul, add, sum), each forward and backward, so the figure reported is the time of a
whole step divided by 3: microseconds per op. The same math hand-written in raw NumPy (forward,
then the gradients a, b and c would get) is the floor; PyTorch's eager CPU mode runs beside it
when torch is installed (never required). Rounds are interleaved (A B C, A B C, ...) so that a
noisy machine slows every way alike, and the median over rounds is reported.

    python benchmarks/overhead.py [--rounds 15] [--steps 2000] [--json out.json]
"""
import argparse
import json
import statistics
import time

import numpy as np

import minigen as mg

N_OPS = 3


def minigen_step(size):
    a, b, c = (mg.randn(size, size, requires_grad=True) for _ in range(3))

    def step():
        a.grad = b.grad = c.grad = None
        ((a * b) + c).sum().backward()
    return step


def numpy_step(size):
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(3))

    def step():
        y = (a * b + c).sum()                       # forward
        g = np.empty_like(a)                         # backward: d(sum)/dz = 1 everywhere
        g.fill(1.0)
        return y, g * b, g * a, g.copy()             # grads of a, b, c
    return step


def torch_step(size):
    try:
        import torch
    except ImportError:
        return None
    a, b, c = (torch.randn(size, size, requires_grad=True) for _ in range(3))

    def step():
        a.grad = b.grad = c.grad = None
        ((a * b) + c).sum().backward()
    return step


def time_per_step(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=15, help='interleaved rounds')
    parser.add_argument('--steps', type=int, default=2000, help='steps per way per round')
    parser.add_argument('--size', type=int, default=16, help='side of the square tensors')
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    ways = {'numpy (floor)': numpy_step(args.size), 'minigen': minigen_step(args.size)}
    torch = torch_step(args.size)
    if torch is not None:
        ways['pytorch eager'] = torch
    times = {name: [] for name in ways}
    for step in ways.values():
        time_per_step(step, args.steps // 4)         # warm-up
    for _ in range(args.rounds):
        for name, step in ways.items():
            times[name].append(time_per_step(step, args.steps))
    floor = statistics.median(times['numpy (floor)'])
    print(f"W1 per-op overhead, {args.size}x{args.size} float32, {N_OPS} ops forward+backward, "
          f"median of {args.rounds} rounds")
    print(f"{'way':<16}{'µs/op':>8}{'min':>8}{'max':>8}{'× numpy':>9}")
    results = {}
    for name, samples in times.items():
        per_op = [t / N_OPS * 1e6 for t in samples]
        median = statistics.median(per_op)
        results[name] = {'us_per_op': median, 'min': min(per_op), 'max': max(per_op),
                         'ratio_to_numpy': statistics.median(samples) / floor}
        print(f"{name:<16}{median:>8.2f}{min(per_op):>8.2f}{max(per_op):>8.2f}"
              f"{results[name]['ratio_to_numpy']:>8.2f}×")
    if torch is None:
        print('(torch is not installed, so its row is skipped: pip install torch to add it)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
