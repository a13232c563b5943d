"""The complementary error function, erfc, on any array module (NumPy has none, and CuPy's is
in cupyx): the Gaussian CDF Φ(x) = ½ erfc(−x/√2) that GELU needs.

The method and the coefficients are Sun Microsystems' fdlibm (``s_erf.c``, the erf of most C
libraries): on four ranges of |x|, rational approximations of degree ≤ 8 whose error in
float64 is below an ulp or two. Each range is evaluated on every element and the right one
picked with ``where`` (what a GPU does best); the tails are computed as erfc itself, as
e^(−x²)·(…)/x, so a tiny erfc keeps its relative accuracy instead of being 1 − erf ≈ 0.
"""
from __future__ import annotations

from typing import Any

from ..core.tensor import Array

ERX = 8.45062911510467529297e-01       # erf(1) rounded, the middle range's offset
# |x| < 0.84375: erf(x) = x + x · P(x²) / Q(x²)
PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
      -5.77027029648944159157e-03, -2.37630166566501626084e-05)
QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
      1.32494738004321644526e-04, -3.96022827877536812320e-06)
# 0.84375 ≤ |x| < 1.25: erf(|x|) = ERX + P(s) / Q(s), s = |x| − 1
PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
      3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
      -2.16637559486879084300e-03)
QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
      1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
# 1.25 ≤ |x| < 1/0.35: erfc(|x|) = exp(−x² − 0.5625 + R(t) / S(t)) / |x|, t = 1/x²
RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
      -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
      -8.12874355063065934246e+01, -9.81432934416914548592e+00)
SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
      6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
      6.57024977031928170135e+00, -6.04244152148580987438e-02)
# 1/0.35 ≤ |x| < 28: the same form with these
RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
      -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
      -4.83519191608651397019e+02)
SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
      3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
      -2.24409524465858183362e+01)


def _poly(coefficients, t):
    """c0 + c1 t + c2 t² + … by Horner's rule."""
    out = coefficients[-1] + 0 * t
    for c in coefficients[-2::-1]:
        out = out * t + c
    return out


def erfc(xp: Any, x: Array) -> Array:
    """1 − erf(x), elementwise, in x's dtype (float64 to an ulp or two, as fdlibm)."""
    ax = xp.abs(x)
    z = x * x
    small = 1 - (x + x * (_poly(PP, z) / _poly(QQ, z)))                 # |x| < 0.84375
    s = ax - 1
    middle = 1 - ERX - _poly(PA, s) / _poly(QA, s)                      # erfc(|x|), < 1.25
    middle = xp.where(x < 0, 2 - middle, middle)
    far = xp.maximum(ax, 1.25)                 # the tail formula, kept finite where unused
    t = 1 / (far * far)
    ratio = xp.where(far < 1 / 0.35, _poly(RA, t) / _poly(SA, t), _poly(RB, t) / _poly(SB, t))
    tail = xp.exp(-far * far - 0.5625 + ratio) / far                    # erfc(|x|), ≥ 1.25
    tail = xp.where(x < 0, 2 - tail, tail)
    return xp.where(ax < 0.84375, small, xp.where(ax < 1.25, middle, tail))
