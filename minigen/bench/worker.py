"""One way of one workload, in a process of its own, timing blocks of steps on request.

    python -m minigen.bench.worker W3 minigen      # then, on stdin: 'run 20', ..., 'quit'

MINIGEN_BENCH_DEVICE=cuda (set by ``minigen bench --device cuda``) runs minigen on CuPy and
PyTorch on CUDA; the NumPy floor stays on the CPU.

Each 'run N' line runs N steps and answers 'seconds minor_page_faults' on stdout; 'stats'
answers the process's peak RSS in MiB. Separate processes keep one framework's BLAS threads,
still spinning after its block, from slowing the next framework's block. The worker sets no
malloc option: it runs under the environment the suite gives it (suite.py, ``--malloc``).
"""
import os
import resource
import sys
import time


def main():
    name, way = sys.argv[1], sys.argv[2]
    device = os.environ.get('MINIGEN_BENCH_DEVICE', 'cpu')
    if way == 'minigen' and device == 'cuda':
        import minigen as mg
        mg.backend.use('cupy')
    from minigen.bench import workloads
    work = workloads.build(name, way, device)
    wait = synchronizer(way, device)
    print('ready', work.ops, flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == 'run':
            steps = int(command[1])
            wait()
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            began = time.perf_counter()
            for _ in range(steps):
                work.step()
            wait()
            elapsed = time.perf_counter() - began
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
            print(elapsed, faults, flush=True)
        elif command[0] == 'stats':
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
        else:
            break


def synchronizer(way, device):
    """A function that waits for the GPU's queued work: GPU kernels run asynchronously, so a
    timer read without it would time the launches, not the steps. A no-op on the CPU (the
    NumPy floor always runs there)."""
    if device != 'cuda' or way == 'numpy':
        return lambda: None
    if way == 'torch':
        import torch
        return torch.cuda.synchronize
    from minigen.core import backend
    cupy = backend.module_for_device('cuda')        # only the backend imports cupy
    return cupy.cuda.get_current_stream().synchronize


if __name__ == '__main__':
    main()
