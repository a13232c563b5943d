"""Interleaved timing: every way runs a block of steps per round, round after round (A B C,
A B C, ...), so that a noisy machine slows every way alike; medians over rounds are reported."""
import json
import statistics
import time


def time_per_step(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def interleaved(ways, rounds, steps, warmup=None):
    """{name: [seconds per step in each round]} for ``ways`` = {name: step function}."""
    for step in ways.values():
        time_per_step(step, warmup if warmup is not None else max(1, steps // 4))
    times = {name: [] for name in ways}
    for _ in range(rounds):
        for name, step in ways.items():
            times[name].append(time_per_step(step, steps))
    return times


def summarize(times, floor_name, scale=1e3, unit='ms'):
    """Rows of median, min, max (in ``unit``) and the ratio of medians to the floor's."""
    floor = statistics.median(times[floor_name])
    rows = {}
    for name, samples in times.items():
        rows[name] = {f'median_{unit}': statistics.median(samples) * scale,
                      f'min_{unit}': min(samples) * scale, f'max_{unit}': max(samples) * scale,
                      'ratio_to_numpy': statistics.median(samples) / floor}
    return rows


def print_table(title, rows, unit='ms'):
    print(title)
    print(f"  {'way':<22}{unit:>9}{'min':>9}{'max':>9}{'× numpy':>9}")
    for name, r in rows.items():
        print(f"  {name:<22}{r[f'median_{unit}']:>9.3f}{r[f'min_{unit}']:>9.3f}"
              f"{r[f'max_{unit}']:>9.3f}{r['ratio_to_numpy']:>8.2f}×")


def write_json(path, results):
    with open(path, 'w') as f:
        json.dump(results, f, indent=2)
