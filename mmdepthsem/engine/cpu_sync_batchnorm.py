"""Synchronised batch normalisation for CPU processes (gloo)."""
from typing import Optional

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


class CPUSyncBatchNorm(_BatchNorm):
    """Batch normalisation over the batches of all processes, for CPU tensors.

    torch's ``nn.SyncBatchNorm`` refuses CPU input and DDP refuses CPU modules that
    contain it, so a config with ``norm_cfg=dict(type='SyncBN')`` or
    ``sync_bn='torch'`` could not train under ``tools/dist_train.sh`` without GPUs.
    In training, this layer computes the batch statistics of ``(N, C, *)`` input
    over every rank's batch with two differentiable all-reduces (sums and count,
    then the centred sum of squares, steadier than ``E[x^2] - E[x]^2``); their
    backward all-reduces the statistics' gradients, so the gradients equal those of
    one process holding the whole batch. Eval mode and single-process runs
    normalise like ``nn.BatchNorm*d``. Not a subclass of ``nn.SyncBatchNorm``
    (DDP rejects those on CPU), but it keeps that class's state-dict keys.

    Args:
        num_features: Channels ``C``.
        eps, momentum, affine, track_running_stats: As for ``nn.BatchNorm2d``.
        process_group: Group to synchronise over; default the whole world.
    """

    def __init__(self, num_features: int, eps: float = 1e-5,
                 momentum: Optional[float] = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f'expected at least 2D input (got {input.dim()}D input)')

    def forward(self, input: Tensor) -> Tensor:
        # batch statistics (synced) in training, and in eval without running stats,
        # as nn.SyncBatchNorm does
        uses_batch_stats = self.training or self.running_mean is None
        if (not uses_batch_stats or not dist.is_available() or not dist.is_initialized()
                or dist.get_world_size(self.process_group) < 2):
            return super().forward(input)
        group = self.process_group
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)

        dims = [0] + list(range(2, input.dim()))
        shape = [1, -1] + [1] * (input.dim() - 2)
        local_count = input.new_full((1, ), input.numel() // input.size(1))
        sums = dist_fn.all_reduce(torch.cat([input.sum(dims), local_count]),
                                  group=group)
        count = sums[-1]
        mean = sums[:-1] / count
        centred = input - mean.view(shape)
        var = dist_fn.all_reduce((centred * centred).sum(dims), group=group) / count
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)

        if self.track_running_stats:
            with torch.no_grad():
                unbiased = var * (count / (count - 1).clamp(min=1))
                self.running_mean.mul_(1 - factor).add_(mean.detach(), alpha=factor)
                self.running_var.mul_(1 - factor).add_(unbiased.detach(), alpha=factor)
        return out

    @classmethod
    def from_sync_batchnorm(cls, module: nn.Module) -> nn.Module:
        """``module`` with every ``nn.SyncBatchNorm`` replaced by this class.

        Parameters and buffers are moved over as the same tensor objects, so an
        optimizer or wrapper that already holds them keeps working.
        """
        if isinstance(module, nn.SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum,
                            module.affine, module.track_running_stats,
                            module.process_group)
            for name, param in module.named_parameters(recurse=False):
                setattr(converted, name, param)
            for name, buffer in module.named_buffers(recurse=False):
                setattr(converted, name, buffer)
            converted.train(module.training)
            return converted
        for name, child in module.named_children():
            new_child = cls.from_sync_batchnorm(child)
            if new_child is not child:
                setattr(module, name, new_child)
        return module
