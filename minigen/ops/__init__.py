"""The primitive differentiable ops. Each module holds op classes (forward and backward side by
side) and their public functions; this package re-exports the functions."""
from . import elementwise, linalg, promotion, reduce, shape  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .promotion import promote_types, result_type  # noqa: F401
from . import graph_namespace  # noqa: F401,E402
