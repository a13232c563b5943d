"""Checking gradients: is a backward right, and if not, where and how is it wrong.

The pages, in the order they build on each other: each imports only pages above it, and
from the layers before check (the engine: autograd, tensor, backend, errors; and ops,
functional for the registry), never models, train or cli, not even inside a function.

    report.py        what a check says: GradcheckResult, GradcheckError, NotAnalyticWarning,
                     and how a report names an input (``input 1 'W' (4, 4) float64``) and an
                     element (``W[2, 0]``)
    numeric.py       the numeric side: float64 copies of the inputs, a random projection of the
                     outputs, central differences
    record.py        recording the ops a forward runs, the inputs each saw, and the line of the
                     user's code that applied it; replaying one op alone
    watch.py         watching backward for writes into gy or its inputs, and for a returned
                     gradient that aliases an array the op keeps
    complex_step.py  the complex step, believed only once central differences confirm it, and
                     the ops to blame when they do not
    compare.py       check_gradients, step by step: analytic against numeric, linearity in gy,
                     the report of the worst element and a hint at the kind of bug
    localize.py      localize: the first node of a graph whose backward disagrees
    gradcheck.py     the public checks: gradcheck, gradgradcheck (and check_second_gradients)
    diagnose.py      how far to trust a check: gradcheck_sweep, taylor_test; check_op, the
                     one-line check of a new op
    registry.py      the table of every op and fused kernel with inputs to check it at, run by
                     ``python -m minigen gradcheck`` and the tests (the whole models' losses
                     are in ``minigen/models/gradcheck_cases.py``: models come after check)
    anomaly.py       detect_anomaly: the first NaN or inf in forward or backward, named with
                     the op and the line that created it (imports record.py only)

Import these names from ``minigen`` (``mg.gradcheck``) or from ``minigen.check``.
"""
from .anomaly import AnomalyError, detect_anomaly
from .compare import METHODS, check_gradients
from .diagnose import check_op, gradcheck_sweep, taylor_test
from .gradcheck import check_second_gradients, gradcheck, gradgradcheck
from .localize import Localisation, localize
from .report import GradcheckError, GradcheckResult, NotAnalyticWarning

__all__ = ['gradcheck', 'gradgradcheck', 'check_gradients', 'check_second_gradients',
           'GradcheckError', 'GradcheckResult', 'NotAnalyticWarning', 'METHODS',
           'localize', 'Localisation', 'gradcheck_sweep', 'taylor_test', 'check_op',
           'detect_anomaly', 'AnomalyError']
