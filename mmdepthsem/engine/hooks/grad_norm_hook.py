"""Logging the gradient norm that reaches chosen sub-modules."""
from typing import Dict, List, Sequence, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdepthsem.registry import HOOKS


@HOOKS.register_module()
class ModuleGradNormHook(Hook):
    """Log the L2 norm of the gradients of the parameters under given name prefixes.

    Shows that a module is actually trained, e.g. that the loss reaches FSRE's CMA
    modules (``prefixes=('cross_task',)``). Gradient hooks on the parameters add up
    the squared gradients of every backward pass of an iteration (so gradient
    accumulation is counted), and after the iteration the norm is logged as
    ``train/grad_norm_<prefix>`` (dots become underscores). Under DDP the values are
    this rank's gradients before averaging.

    The hook runs before the :class:`~mmengine.hooks.LoggerHook` (priority
    ``NORMAL``), so the value of an iteration appears in that iteration's log line.

    Args:
        prefixes: Parameter-name prefixes of the model (without a wrapper's
            ``module.``), one logged value each.

    Raises:
        KeyError: At the start of training, when a prefix matches no trainable
            parameter (naming the prefix and the model's top-level modules).
    """

    priority = 'NORMAL'

    def __init__(self, prefixes: Sequence[str] = ('cross_task', )) -> None:
        if isinstance(prefixes, str):
            prefixes = (prefixes, )
        self.prefixes = tuple(prefixes)
        # summed on the gradients' device; read (one sync) once per iteration
        self._squared: Dict[str, Union[float, torch.Tensor]] = {
            p: 0.0 for p in self.prefixes}
        self._handles: List = []

    def _accumulate(self, prefix: str):

        def hook(grad: torch.Tensor) -> None:
            self._squared[prefix] = self._squared[prefix] + grad.detach().double(
            ).pow(2).sum()

        return hook

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        for prefix in self.prefixes:
            params = [
                p for name, p in model.named_parameters()
                if p.requires_grad and (name == prefix or name.startswith(prefix + '.'))
            ]
            if not params:
                children = ', '.join(name for name, _ in model.named_children())
                raise KeyError(f'ModuleGradNormHook: no trainable parameter under '
                               f'{prefix!r} (top-level modules: {children})')
            self._handles += [p.register_hook(self._accumulate(prefix)) for p in params]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        for prefix in self.prefixes:
            runner.message_hub.update_scalar(
                f"train/grad_norm_{prefix.replace('.', '_')}",
                float(self._squared[prefix])**0.5)
            self._squared[prefix] = 0.0

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
