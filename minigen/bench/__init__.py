"""The speed suite: ``minigen bench`` runs six workloads three ways (minigen, the same step
hand-written in NumPy, PyTorch when installed) and prints their times side by side.

    suite.py        the runner: worker processes, interleaved rounds, the table
    worker.py       one way of one workload in a process of its own
    workloads.py    the six workloads, built each way, and the check that they agree
    numpy_steps.py  the floor: each training step hand-written in NumPy, in place, preallocated

It lives in the package so that ``minigen bench`` works from any installation (benchmarks/ in
the source tree keeps the recorded results).
"""
