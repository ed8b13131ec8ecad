"""Optimizer wrappers that refuse to step on a non-finite loss or gradient.

A single NaN/inf that reaches ``optimizer.step`` poisons the weights (and Adam's
moments) for the rest of the run. These wrappers look at every loss handed to
``backward`` and at every gradient just before the step, and if anything is
non-finite they apply a configurable policy instead of stepping:

- ``'skip'``: zero the gradients, leave weights and optimizer state untouched,
  warn with the iteration number and count the skip (published as the scalar
  ``train/nonfinite_skips``, so it appears in the training log). After
  ``max_consecutive_skips`` skips in a row the run stops: it has diverged.
- ``'raise'``: stop at once with a ``RuntimeError`` naming the iteration and the
  non-finite losses and parameters.

The check sits in :meth:`step`, so it covers both mmengine's
``BaseModel.train_step`` (which calls ``update_params``) and estimators that call
``backward`` / ``should_update`` / ``step`` / ``zero_grad`` themselves
(``AlternatingMultiTaskEstimator.step_through``). It runs before gradient
clipping, so ``clip_grad`` cannot hide a NaN.

Distributed training: ``backward`` always runs, also on a non-finite loss. Under
DDP the gradients are all-reduced during ``backward``, so a NaN gradient on one rank
reaches every rank; skipping ``backward`` on one rank only would leave the others
waiting in that all-reduce. A non-finite loss whose gradients are finite (a NaN term
without a gradient path) is seen by one rank only, so the verdict itself is also
reduced (one integer per step, ``max`` over ranks): all ranks skip, or raise,
together and the replicas stay identical.

Iterations in messages are 1-based, as in the log lines (``Iter(train) [3/40]``)
and checkpoint names (``iter_3.pth``).
"""
import logging
from contextlib import contextmanager
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from torch.nn.utils import get_total_norm
from mmengine.dist import all_reduce, get_world_size
from mmengine.logging import MessageHub, print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmdepthsem.registry import OPTIM_WRAPPERS

POLICIES = ('skip', 'raise')
SKIP_SCALAR = 'train/nonfinite_skips'
STATE_KEY = 'nonfinite_guard'
# At most this many parameter names are listed in a message.
_MAX_NAMED = 5


class NonFiniteGuardMixin:
    """The guard itself, shared by the plain and the AMP wrapper.

    Args:
        policy (str): ``'skip'`` or ``'raise'``. Defaults to ``'skip'``.
        max_consecutive_skips (int, optional): with ``'skip'``, stop once this many
            steps in a row were skipped; ``None`` never stops. Defaults to 20.
        **kwargs: the arguments of the wrapped mmengine optimizer wrapper
            (``optimizer``, ``clip_grad``, ``accumulative_counts``, ...).
    """

    # Whether gradients are checked besides the loss (the AMP variant leaves
    # gradient overflow to its GradScaler).
    check_gradients = True

    def __init__(self,
                 *args,
                 policy: str = 'skip',
                 max_consecutive_skips: Optional[int] = 20,
                 **kwargs) -> None:
        if policy not in POLICIES:
            raise ValueError(f'policy must be one of {POLICIES}, got {policy!r}')
        if max_consecutive_skips is not None and max_consecutive_skips < 1:
            raise ValueError('max_consecutive_skips must be >= 1 or None, got '
                             f'{max_consecutive_skips}')
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.max_consecutive_skips = max_consecutive_skips
        self.num_skips = 0
        self.consecutive_skips = 0
        # Detached losses seen by backward() since the last step / zero_grad.
        self._pending_losses: List[torch.Tensor] = []
        self._param_names: Dict[int, str] = {}

    # -- hooks into the optimizer wrapper -------------------------------------

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context; also remembers parameter names for messages."""
        if not self._param_names:
            self._param_names = {id(p): n for n, p in model.named_parameters()}
        with super().optim_context(model):
            yield

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Record the loss, then back-propagate it (always, see module docstring)."""
        self._pending_losses.append(loss.detach())
        super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        """Step if the pending losses and the gradients are finite, else apply
        the policy (no clipping and no optimizer update in that case)."""
        what = self._find_non_finite()
        self._pending_losses = []
        if what is None:
            self.consecutive_skips = 0
            self._publish()
            super().step(**kwargs)
            return
        where = self._iteration()
        if self.policy == 'raise':
            raise RuntimeError(f'At {where}: non-finite {what}; stopping '
                               "(optim_wrapper.policy='raise').")
        # Drop the poisoned gradients so that neither this step nor a later
        # accumulated one uses them.
        self.zero_grad()
        self.num_skips += 1
        self.consecutive_skips += 1
        self._publish()
        limit = self.max_consecutive_skips
        if limit is not None and self.consecutive_skips >= limit:
            raise RuntimeError(
                f'At {where}: non-finite {what}; {self.consecutive_skips} '
                f'consecutive steps skipped (max_consecutive_skips={limit}); the '
                'run has diverged, stopping.')
        print_log(
            f'Skipped the optimizer step at {where}: non-finite {what}. '
            f'Weights unchanged; {self.num_skips} step(s) skipped so far.',
            logger='current', level=logging.WARNING)

    def zero_grad(self, **kwargs) -> None:
        """Zero the gradients and forget the losses recorded since the last step."""
        self._pending_losses = []
        super().zero_grad(**kwargs)

    def state_dict(self) -> dict:
        """The parent's state dict plus the skip counters."""
        state_dict = super().state_dict()
        state_dict[STATE_KEY] = dict(
            num_skips=self.num_skips, consecutive_skips=self.consecutive_skips)
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the parent's state; the counters too if the checkpoint has them
        (checkpoints of a plain ``OptimWrapper`` start them at 0)."""
        state_dict = dict(state_dict)
        counters = state_dict.pop(STATE_KEY, None) or {}
        self.num_skips = int(counters.get('num_skips', 0))
        self.consecutive_skips = int(counters.get('consecutive_skips', 0))
        super().load_state_dict(state_dict)

    # -- helpers --------------------------------------------------------------

    def _grad_params(self) -> List[torch.Tensor]:
        return [
            p for group in self.optimizer.param_groups for p in group['params']
            if p.grad is not None
        ]

    def _find_non_finite(self) -> Optional[str]:
        """Describe what is non-finite on any rank, or return None if nothing is.

        One host-device synchronisation (and, distributed, one tiny all-reduce)
        when everything is finite.
        """
        losses = self._pending_losses
        params = self._grad_params() if self.check_gradients else []
        flags = [torch.isfinite(loss).all() for loss in losses]
        if params:
            # max-abs norm (multi-tensor, grouped by device): NaN and inf propagate,
            # finite values cannot overflow
            flags.append(torch.isfinite(get_total_norm(
                [p.grad for p in params], norm_type=float('inf'))))
        local_ok = True
        if flags:
            device = flags[0].device
            local_ok = bool(torch.stack([f.to(device) for f in flags]).all())
        ok = local_ok
        if get_world_size() > 1:
            verdict = torch.tensor([0 if local_ok else 1])
            all_reduce(verdict, op='max')
            ok = verdict.item() == 0
        if ok:
            return None
        if local_ok:
            return 'loss or gradients on another rank'
        bad_losses = [loss for loss in losses if not torch.isfinite(loss).all()]
        bad_params = [p for p in params if not torch.isfinite(p.grad).all()]
        return self._describe(bad_losses, bad_params)

    def _describe(self, bad_losses: List[torch.Tensor],
                  bad_params: List[torch.Tensor]) -> str:
        parts = []
        if bad_losses:
            values = ', '.join(
                str(loss.float().flatten()[0].item()) if loss.numel() == 1 else
                f'tensor{tuple(loss.shape)}' for loss in bad_losses)
            parts.append(f'loss ({values})')
        if bad_params:
            names = [
                self._param_names.get(id(p), f'<param {tuple(p.shape)}>')
                for p in bad_params[:_MAX_NAMED]
            ]
            more = len(bad_params) - len(names)
            listed = ', '.join(names) + (f' and {more} more' if more else '')
            parts.append(f'gradients of {len(bad_params)} parameter(s): {listed}')
        return ' and '.join(parts)

    @staticmethod
    def _iteration() -> str:
        hub = MessageHub.get_current_instance()
        cur = hub.get_info('iter')
        if cur is None:
            return 'a step outside a training loop'
        total = hub.get_info('max_iters')
        return f'iteration {cur + 1}' + (f'/{total}' if total else '')

    def _publish(self) -> None:
        MessageHub.get_current_instance().update_scalar(SKIP_SCALAR, self.num_skips)

    def __repr__(self) -> str:
        return (super().__repr__() + f'\npolicy={self.policy!r}, '
                f'max_consecutive_skips={self.max_consecutive_skips}')


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(NonFiniteGuardMixin, OptimWrapper):
    """``OptimWrapper`` that never steps on a non-finite loss or gradient.

    See the module docstring for the policies and :class:`NonFiniteGuardMixin`
    for the arguments.

    Example:
        >>> optim_wrapper = dict(
        ...     type='NonFiniteGuardOptimWrapper', policy='skip',
        ...     optimizer=dict(type='Adam', lr=1e-4), clip_grad=dict(max_norm=1.))
    """


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardAmpOptimWrapper(NonFiniteGuardMixin, AmpOptimWrapper):
    """``AmpOptimWrapper`` with the non-finite loss guard.

    Only the loss is checked: with a dynamic loss scale, overflowing (inf)
    gradients are expected now and then, and mmengine's ``GradScaler`` already
    skips the update and lowers the scale for them, so the weights never see
    them either. Counting those as skips would stop healthy runs.
    """

    check_gradients = False
