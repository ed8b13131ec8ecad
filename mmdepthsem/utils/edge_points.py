"""Semantic-edge point sampling of SGRE's SEEM (sec. 4.2, appendix A.2).

Pure torch, shared by the data transform :class:`SampleSEEMPoints` and by the model,
which samples from its own binary prediction at test time.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

# Cross-correlation kernels (the sign is irrelevant for the magnitude).
_SOBEL_X = ((-1., 0., 1.), (-2., 0., 2.), (-1., 0., 1.))


def sobel_magnitude(mask: Tensor) -> Tensor:
    """Sobel gradient magnitude ``sqrt(gx^2 + gy^2)`` of a (binary) mask.

    torch has no Sobel operator, so this convolves the two standard 3x3 kernels.
    The input is padded by replication, so the image border is no edge.

    Args:
        mask: ``(H, W)`` or ``(B, 1, H, W)``, bool or numbers (e.g. 0/1).

    Returns:
        Float tensor of the same shape and device; 0 where the 3x3 neighbourhood is
        constant, up to ``4 * sqrt(2)`` for a 0/1 mask.
    """
    if mask.dim() == 2:
        return sobel_magnitude(mask[None, None])[0, 0]
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f'mask must be (H, W) or (B, 1, H, W), got {tuple(mask.shape)}')
    x = mask.float() if not mask.is_floating_point() else mask
    kx = torch.tensor(_SOBEL_X, dtype=x.dtype, device=x.device)
    kernels = torch.stack([kx, kx.t()])[:, None]  # (2, 1, 3, 3): gx, gy
    grad = F.conv2d(F.pad(x, (1, 1, 1, 1), mode='replicate'), kernels)
    return grad.pow(2).sum(dim=1, keepdim=True).sqrt()


def seem_point_counts(height: int,
                      width: int,
                      num_points: int = 3000,
                      edge_ratio: float = 0.4,
                      ref_size: Tuple[int, int] = (192, 640),
                      scale_with_size: bool = True) -> Tuple[int, int]:
    """Sizes of SEEM's point sets for an image of ``height x width`` pixels.

    ``N`` is ``num_points`` at ``ref_size`` and scales linearly with the image side
    (edge lengths grow with the side, not the area):
    ``N_s = round(num_points * sqrt(H * W / (ref_h * ref_w)))``. Then
    ``|S_E| = |S_D| = round(edge_ratio * N_s)`` and ``|S_R| = N_s - 2 |S_E|``.

    Args:
        height: Image height, pixels.
        width: Image width, pixels.
        num_points: ``N`` at ``ref_size`` (paper: 3000 at 192x640).
        edge_ratio: ``mu`` in ``(0, 0.5]`` (paper: 0.4).
        ref_size: ``(h, w)`` at which ``num_points`` holds.
        scale_with_size: If False, ``N_s = num_points`` at every size.

    Returns:
        ``(num_edge, num_random)``, e.g. ``(1200, 600)`` at 192x640 with defaults.
    """
    if not 0 < edge_ratio <= 0.5:
        raise ValueError(f'edge_ratio must be in (0, 0.5], got {edge_ratio}')
    if num_points <= 0:
        raise ValueError(f'num_points must be positive, got {num_points}')
    if height <= 0 or width <= 0:
        raise ValueError(f'image size must be positive, got {height}x{width}')
    total = num_points
    if scale_with_size:
        ref_h, ref_w = ref_size
        total = math.floor(num_points * math.sqrt(height * width / (ref_h * ref_w))
                           + 0.5)
    num_edge = min(math.floor(edge_ratio * total + 0.5), total // 2)
    return num_edge, total - 2 * num_edge


def _randint(low: int, high: int, size: Tuple[int, ...],
             generator: Optional[torch.Generator]) -> Tensor:
    """``torch.randint`` on the generator's device (CPU without a generator)."""
    device = generator.device if generator is not None else 'cpu'
    return torch.randint(low, high, size, generator=generator, device=device)


def sample_edge_points(mask: Tensor,
                       num_edge: int,
                       num_random: int,
                       max_offset: int,
                       generator: Optional[torch.Generator] = None
                       ) -> Tuple[Tensor, int]:
    """Sample SEEM's point set ``S = S_E u S_D u S_R`` from a binary mask.

    - ``S_E``: the ``num_edge`` pixels with the largest Sobel response (ties broken
      at random). If fewer pixels respond, all of them, filled up with uniform random
      pixels.
    - ``S_D``: ``S_E`` moved by integer offsets ``~ U{-c..c}`` per axis
      (``c = max_offset``), clipped into the image.
    - ``S_R``: ``num_random`` uniform random pixels.

    Args:
        mask: ``(H, W)`` binary mask (bool or 0/1), foreground = True.
        num_edge: ``|S_E| = |S_D|`` (see :func:`seem_point_counts`).
        num_random: ``|S_R|``.
        max_offset: ``c``, pixels.
        generator: Source of all randomness; seed it for deterministic points.

    Returns:
        tuple: ``points``, ``(2 * num_edge + num_random, 2)`` int64 ``(x, y)`` pixel
        coordinates on the mask's device, rows ordered ``S_E, S_D, S_R``, with
        ``0 <= x < W`` and ``0 <= y < H``; and ``num_on_edges``, how many ``S_E``
        rows are true edge pixels (the first ones).
    """
    if mask.dim() != 2:
        raise ValueError(f'mask must be (H, W), got {tuple(mask.shape)}')
    if num_edge < 0 or num_random < 0 or max_offset < 0:
        raise ValueError(f'num_edge ({num_edge}), num_random ({num_random}) and '
                         f'max_offset ({max_offset}) must be >= 0')
    height, width = mask.shape
    if height == 0 or width == 0:
        raise ValueError(f'mask is empty ({height}x{width})')
    response = sobel_magnitude(mask).flatten()
    rand_device = generator.device if generator is not None else 'cpu'
    response = response.to(rand_device)

    num_on_edges = min(num_edge, int((response > 0).sum()))
    # topk over a random permutation, so equal responses are picked at random
    perm = torch.randperm(response.numel(), generator=generator, device=rand_device)
    top = perm[response[perm].topk(num_on_edges).indices]
    edge = torch.stack([top % width, top // width], dim=1)
    fill = torch.cat([_randint(0, width, (num_edge - num_on_edges, 1), generator),
                      _randint(0, height, (num_edge - num_on_edges, 1), generator)],
                     dim=1)
    edge = torch.cat([edge, fill])

    upper = torch.tensor([width - 1, height - 1], device=rand_device)
    offsets = _randint(-max_offset, max_offset + 1, (num_edge, 2), generator)
    disturbed = torch.minimum(torch.clamp(edge + offsets, min=0), upper)

    rand = torch.cat([_randint(0, width, (num_random, 1), generator),
                      _randint(0, height, (num_random, 1), generator)], dim=1)
    points = torch.cat([edge, disturbed, rand]).long().to(mask.device)
    return points, num_on_edges
