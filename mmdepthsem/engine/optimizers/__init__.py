from .non_finite_guard import (NonFiniteGuardAmpOptimWrapper, NonFiniteGuardMixin,
                               NonFiniteGuardOptimWrapper)

__all__ = [
    'NonFiniteGuardAmpOptimWrapper', 'NonFiniteGuardMixin',
    'NonFiniteGuardOptimWrapper'
]
