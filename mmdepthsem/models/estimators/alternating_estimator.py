"""Multi-task estimator with SOSD-Net's EM-style alternating training (Algorithm 1)."""
import contextlib
from typing import Dict, Iterator, List, Optional, Sequence, Union

import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from torch import nn

from mmdepthsem.registry import MODELS
from .base_estimator import SampleList
from .multitask_estimator import MultiTaskEstimator

PHASES = ('depth', 'semantic')
#: Loss-dict prefix of each phase's head (MultiTaskEstimator's ``add_prefix``).
PHASE_PREFIX = {'depth': 'depth.', 'semantic': 'sem.'}


@MODELS.register_module()
class AlternatingMultiTaskEstimator(MultiTaskEstimator):
    """:class:`MultiTaskEstimator` trained in alternating depth / semantic phases.

    SOSD-Net (He et al., sec. 3.3, Algorithm 1; ``specs/sosd.md``): every parameter
    belongs to exactly one group, ``shared``, ``depth`` or ``semantic`` (given by
    name prefixes). In a **depth phase** only the depth loss is computed and only the
    ``depth`` and ``shared`` groups are updated; in a **semantic phase** only the
    semantic loss, updating ``semantic`` and ``shared``. The frozen group gets no
    update at all: its gradients are dropped before the optimiser step, so Adam
    neither moves it nor touches its moments (PyTorch skips parameters without a
    gradient), and its modules run in eval mode, so BatchNorm running statistics do
    not change. The shared group receives the gradient of the phase's loss from
    every branch (α = 1 in eq. 5). One forward, one backward and one optimiser step
    per iteration.

    The phase is derived from the runner's ``iter`` or ``epoch`` (mmengine's
    ``MessageHub``): phase ``k = (counter // period) % 2`` counted from ``start``,
    so a resumed run continues in the phase it stopped in. With
    ``enabled=False`` every step is the ordinary joint step of the sum of both
    losses (SOSD-Net without EM).

    Args:
        alternation: ``dict(enabled=True, period=1, by_epoch=True, start='depth',
            groups=dict(shared=[...], depth=[...], semantic=[...]))``; ``groups``
            maps each group to module names (``'decode_neck.depth_feature'``); a
            parameter belongs to the group whose module contains it.
        **kwargs: :class:`MultiTaskEstimator` arguments (both heads when
            alternating; a single-task model keeps the group check and trains
            jointly).

    Raises:
        ValueError: A parameter in no group or in two groups (named), an unknown
            key, phase or a period < 1.
    """

    def __init__(self, *args, alternation: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cfg = dict(enabled=True, period=1, by_epoch=True, start='depth', groups=None)
        unknown = set(alternation or {}) - set(cfg)
        if unknown:
            raise ValueError(f'AlternatingMultiTaskEstimator: unknown alternation keys '
                             f'{sorted(unknown)}; known: {sorted(cfg)}')
        cfg.update(alternation or {})
        if cfg['enabled'] and not (self.with_depth and self.with_sem):
            raise ValueError('AlternatingMultiTaskEstimator: alternating training '
                             'needs both a depth_head and a sem_head (single-task '
                             'models set alternation=dict(enabled=False))')
        if cfg['start'] not in PHASES:
            raise ValueError(f"alternation['start'] must be one of {PHASES}, got "
                             f"{cfg['start']!r}")
        if int(cfg['period']) < 1:
            raise ValueError(f"alternation['period'] must be >= 1, got "
                             f"{cfg['period']}")
        if not cfg['groups']:
            raise ValueError("alternation['groups'] must map 'shared', 'depth' and "
                             "'semantic' to parameter-name prefixes")
        self.alternation = cfg
        self.group_of = self._assign_groups(cfg['groups'])
        self._phase: Optional[str] = None

    # ------------------------------------------------------------- groups
    def _assign_groups(self, groups: Dict[str, Sequence[str]]) -> Dict[str, str]:
        """``{parameter name: group}``; every parameter in exactly one group."""
        if set(groups) != {'shared', *PHASES}:
            raise ValueError("alternation['groups'] needs exactly the keys 'shared', "
                             f"'depth', 'semantic', got {sorted(groups)}")
        owner: Dict[str, str] = {}
        clashes, unassigned = [], []
        for name, _ in self.named_parameters():
            hits = [g for g, prefixes in groups.items()
                    if any(name == p or name.startswith(p + '.') for p in prefixes)]
            if len(hits) > 1:
                clashes.append(f'{name} ({", ".join(hits)})')
            elif not hits:
                unassigned.append(name)
            else:
                owner[name] = hits[0]
        if clashes or unassigned:
            raise ValueError(
                'AlternatingMultiTaskEstimator: every parameter must be in exactly '
                f'one group; in two: {clashes[:5]}; in none: {unassigned[:5]}'
                f'{" ..." if len(clashes) > 5 or len(unassigned) > 5 else ""}')
        return owner

    def group_parameters(self, group: str) -> Iterator[nn.Parameter]:
        """The parameters of ``group`` (``'shared'``, ``'depth'``, ``'semantic'``)."""
        for name, param in self.named_parameters():
            if self.group_of[name] == group:
                yield param

    def group_modules(self, group: str) -> List[nn.Module]:
        """The largest submodules whose parameters all belong to ``group``."""
        prefixes = self.alternation['groups'][group]
        return [self.get_submodule(p) for p in prefixes]

    # -------------------------------------------------------------- phase
    def current_phase(self) -> Optional[str]:
        """``'depth'``, ``'semantic'`` or ``None`` (joint training)."""
        if not self.alternation['enabled']:
            return None
        hub = MessageHub.get_current_instance()
        counter = hub.get_info('epoch' if self.alternation['by_epoch'] else 'iter') or 0
        index = (int(counter) // int(self.alternation['period'])) % 2
        start = PHASES.index(self.alternation['start'])
        return PHASES[(start + index) % 2]

    @contextlib.contextmanager
    def _frozen_in_eval(self, group: str):
        """Run the modules of ``group`` in eval mode (BN statistics untouched)."""
        modules = [m for m in self.group_modules(group) if m.training]
        for module in modules:
            module.eval()
        try:
            yield
        finally:
            for module in modules:
                module.train()

    # ----------------------------------------------------------- training
    def loss(self, inputs: torch.Tensor, data_samples: SampleList
             ) -> Dict[str, torch.Tensor]:
        """Both losses when joint; only the current phase's loss otherwise."""
        if self._phase is None:
            return super().loss(inputs, data_samples)
        if self.teacher is not None:
            self.pseudo_label(inputs, data_samples)
        depth_feats, sem_feats = self.task_features(inputs)
        if self._phase == 'depth':
            losses = self.depth_head.loss(depth_feats, data_samples, self.train_cfg)
        else:
            losses = self.sem_head.loss(sem_feats, data_samples, self.train_cfg)
        prefix = PHASE_PREFIX[self._phase]
        return {prefix + k: v for k, v in losses.items()}

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """One step of the current phase (or a joint step); see the class docstring."""
        return self.step_through(self, data, optim_wrapper)

    def step_through(self, model: nn.Module, data: Union[dict, tuple, list],
                     optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """The training step, with the forward run through ``model``.

        ``model`` is this estimator, or the DDP wrapper around it
        (:class:`~mmdepthsem.engine.DeviceAwareDistributedDataParallel` delegates
        here), so that the backward pass all-reduces the gradients. Under DDP the
        frozen head has no gradient in a phase: wrap with
        ``find_unused_parameters=True`` (the SOSD configs do).
        """
        phase = self.current_phase()
        frozen = None if phase is None else PHASES[1 - PHASES.index(phase)]
        self._phase = phase
        try:
            with optim_wrapper.optim_context(model), contextlib.ExitStack() as stack:
                if frozen is not None:
                    stack.enter_context(self._frozen_in_eval(frozen))
                data = self.data_preprocessor(data, True)
                losses = model._run_forward(data, mode='loss')
        finally:
            self._phase = None
        parsed, log_vars = self.parse_losses(losses)
        optim_wrapper.backward(optim_wrapper.scale_loss(parsed))
        if optim_wrapper.should_update():
            if frozen is not None:
                for param in self.group_parameters(frozen):
                    param.grad = None
            optim_wrapper.step()
            optim_wrapper.zero_grad()
        if phase is not None:
            log_vars['em_phase'] = torch.tensor(float(PHASES.index(phase)))
        return log_vars
