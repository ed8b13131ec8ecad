"""The data sample that travels from the pipeline through the model to the metrics."""
from typing import Optional

import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


class DepthSemDataSample(SegDataSample):
    """One image's ground truth and predictions for depth and semantics.

    Extends mmseg's :class:`SegDataSample` (which already holds ``gt_sem_seg``,
    ``pred_sem_seg`` and ``seg_logits``), so every mmseg decode head, metric and
    visualiser that reads those fields works unchanged.

    Pixel fields (``PixelData`` whose ``data`` is ``(C, H, W)``):

    - ``gt_depth_map``: ``(1, H, W)`` float, metres, ``0`` = invalid.
    - ``gt_disparity_map``: ``(1, H, W)`` float, pixels, ``0`` = invalid.
    - ``gt_sem_seg``: ``(1, H, W)`` int64 class ids, ``255`` = ignore.
    - ``gt_pseudo_sem_seg``: ``(1, H, W)`` teacher pseudo-labels, ``255`` = ignore.
    - ``gt_pseudo_conf``: ``(1, H, W)`` float in ``[0, 1]``, the teacher's confidence.
    - ``gt_fg_mask``: ``(1, H, W)`` uint8, ``1`` foreground, ``0`` background,
      ``255`` = ignore.
    - ``est_depth_map``: ``(1, H, W)`` float, metres, ``0`` = invalid: a depth
      *estimate* (e.g. self-supervised predictions) read by depth-based mixing.
    - ``mix_mask``: ``(1, H, W)`` bool, set by the batch mixes: ``True`` where the
      pixel comes from this sample, ``False`` from its partner (metainfo
      ``mix_info['partner']``, an index into the batch).
    - ``pred_depth_map``: ``(1, H, W)`` float, metres.

    Other data fields:

    - ``points``: ``(N, 2)`` float, ``(x, y)`` pixel coordinates (SEEM samples).
    - ``seem_points``: ``(N, 2)`` int64, ``(x, y)`` pixels of SGRE's SEEM point set,
      rows ``S_E, S_D, S_R`` (metainfo ``seem_num_edge_points``: how many ``S_E``
      rows lie on a real edge).
    - ``intrinsics``: ``(3, 3)`` float camera matrix of the (transformed) image, pixels.
    - ``frames``: ``(T, 3, H, W)`` neighbouring images; their offsets relative to the
      target frame (e.g. ``(-1, 1)``) are in the metainfo key ``frame_ids``.
    """

    @property
    def gt_depth_map(self) -> PixelData:
        return self._gt_depth_map

    @gt_depth_map.setter
    def gt_depth_map(self, value: PixelData) -> None:
        self.set_field(value, '_gt_depth_map', dtype=PixelData)

    @gt_depth_map.deleter
    def gt_depth_map(self) -> None:
        del self._gt_depth_map

    @property
    def gt_disparity_map(self) -> PixelData:
        return self._gt_disparity_map

    @gt_disparity_map.setter
    def gt_disparity_map(self, value: PixelData) -> None:
        self.set_field(value, '_gt_disparity_map', dtype=PixelData)

    @gt_disparity_map.deleter
    def gt_disparity_map(self) -> None:
        del self._gt_disparity_map

    @property
    def gt_pseudo_sem_seg(self) -> PixelData:
        return self._gt_pseudo_sem_seg

    @gt_pseudo_sem_seg.setter
    def gt_pseudo_sem_seg(self, value: PixelData) -> None:
        self.set_field(value, '_gt_pseudo_sem_seg', dtype=PixelData)

    @gt_pseudo_sem_seg.deleter
    def gt_pseudo_sem_seg(self) -> None:
        del self._gt_pseudo_sem_seg

    @property
    def gt_pseudo_conf(self) -> PixelData:
        return self._gt_pseudo_conf

    @gt_pseudo_conf.setter
    def gt_pseudo_conf(self, value: PixelData) -> None:
        self.set_field(value, '_gt_pseudo_conf', dtype=PixelData)

    @gt_pseudo_conf.deleter
    def gt_pseudo_conf(self) -> None:
        del self._gt_pseudo_conf

    @property
    def gt_fg_mask(self) -> PixelData:
        return self._gt_fg_mask

    @gt_fg_mask.setter
    def gt_fg_mask(self, value: PixelData) -> None:
        self.set_field(value, '_gt_fg_mask', dtype=PixelData)

    @gt_fg_mask.deleter
    def gt_fg_mask(self) -> None:
        del self._gt_fg_mask

    @property
    def est_depth_map(self) -> PixelData:
        return self._est_depth_map

    @est_depth_map.setter
    def est_depth_map(self, value: PixelData) -> None:
        self.set_field(value, '_est_depth_map', dtype=PixelData)

    @est_depth_map.deleter
    def est_depth_map(self) -> None:
        del self._est_depth_map

    @property
    def mix_mask(self) -> PixelData:
        return self._mix_mask

    @mix_mask.setter
    def mix_mask(self, value: PixelData) -> None:
        self.set_field(value, '_mix_mask', dtype=PixelData)

    @mix_mask.deleter
    def mix_mask(self) -> None:
        del self._mix_mask

    @property
    def pred_depth_map(self) -> PixelData:
        return self._pred_depth_map

    @pred_depth_map.setter
    def pred_depth_map(self, value: PixelData) -> None:
        self.set_field(value, '_pred_depth_map', dtype=PixelData)

    @pred_depth_map.deleter
    def pred_depth_map(self) -> None:
        del self._pred_depth_map

    @property
    def points(self) -> torch.Tensor:
        return self._points

    @points.setter
    def points(self, value: torch.Tensor) -> None:
        self.set_field(value, '_points', dtype=torch.Tensor)

    @points.deleter
    def points(self) -> None:
        del self._points

    @property
    def seem_points(self) -> torch.Tensor:
        return self._seem_points

    @seem_points.setter
    def seem_points(self, value: torch.Tensor) -> None:
        self.set_field(value, '_seem_points', dtype=torch.Tensor)

    @seem_points.deleter
    def seem_points(self) -> None:
        del self._seem_points

    @property
    def intrinsics(self) -> torch.Tensor:
        return self._intrinsics

    @intrinsics.setter
    def intrinsics(self, value: torch.Tensor) -> None:
        self.set_field(value, '_intrinsics', dtype=torch.Tensor)

    @intrinsics.deleter
    def intrinsics(self) -> None:
        del self._intrinsics

    @property
    def frames(self) -> torch.Tensor:
        return self._frames

    @frames.setter
    def frames(self, value: torch.Tensor) -> None:
        self.set_field(value, '_frames', dtype=torch.Tensor)

    @frames.deleter
    def frames(self) -> None:
        del self._frames


def stack_pixel_field(samples, name: str) -> Optional[torch.Tensor]:
    """Stack one pixel field of a batch of samples into ``(B, C, H, W)``.

    Returns ``None`` when any sample lacks the field.
    """
    if not samples or not all(name in s for s in samples):
        return None
    return torch.stack([getattr(s, name).data for s in samples])
