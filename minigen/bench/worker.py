"""One way of one workload, in a process of its own, timing blocks of steps on request.

    python -m minigen.bench.worker W3 minigen      # then, on stdin: 'run 20', ..., 'quit'

Each 'run N' line runs N steps and answers 'seconds minor_page_faults' on stdout; 'stats'
answers the process's peak RSS in MiB. Separate processes keep one framework's BLAS threads,
still spinning after its block, from slowing the next framework's block.
"""
import os
import resource
import sys
import time


def main():
    name, way = sys.argv[1], sys.argv[2]
    if way == 'minigen' and os.environ.get('MINIGEN_BENCH_DEVICE') == 'cuda':
        import minigen as mg
        mg.backend.use('cupy')
    from minigen.bench import workloads
    work = workloads.build(name, way)
    print('ready', work.ops, flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == 'run':
            steps = int(command[1])
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            began = time.perf_counter()
            for _ in range(steps):
                work.step()
            elapsed = time.perf_counter() - began
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
            print(elapsed, faults, flush=True)
        elif command[0] == 'stats':
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
        else:
            break


if __name__ == '__main__':
    main()
