"""A DDP wrapper that also wraps CPU models."""
from typing import Dict, Union

import torch
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper

from mmdepthsem.registry import MODEL_WRAPPERS
from .cpu_sync_batchnorm import CPUSyncBatchNorm


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's ``MMDistributedDataParallel`` that accepts CPU modules.

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]``, which torch's DDP
    rejects for a module on the CPU. For CPU modules this wrapper drops
    ``device_ids``/``output_device`` (DDP then all-reduces over gloo) and turns
    ``nn.SyncBatchNorm`` layers (``norm_cfg=dict(type='SyncBN')``, ``sync_bn='torch'``),
    which refuse CPU input, into :class:`CPUSyncBatchNorm`; GPU modules are wrapped
    exactly as by the parent class.

    mmengine's wrapper runs its own training step and never calls the module's.
    A module with a ``step_through(model, data, optim_wrapper)`` method (e.g.
    :class:`~mmdepthsem.models.AlternatingMultiTaskEstimator`, whose step freezes a
    parameter group) gets the step delegated, with this wrapper as ``model`` so the
    forward still goes through DDP.
    """

    def __init__(self, module, detect_anomalous_params: bool = False, **kwargs):
        first = next(module.parameters(), None)
        if first is not None and first.device.type == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
            module = CPUSyncBatchNorm.from_sync_batchnorm(module)
        super().__init__(module, detect_anomalous_params=detect_anomalous_params,
                         **kwargs)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        step_through = getattr(self.module, 'step_through', None)
        if step_through is None:
            return super().train_step(data, optim_wrapper)
        return step_through(self, data, optim_wrapper)
