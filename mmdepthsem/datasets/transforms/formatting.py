"""Pack a pipeline ``results`` dict into model inputs and a ``DepthSemDataSample``."""
from typing import Hashable, List, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from mmdepthsem.registry import TRANSFORMS
from mmdepthsem.structures import DepthSemDataSample

#: ``results`` key → (data-sample field, tensor dtype) of the per-pixel maps.
PIXEL_FIELDS = {
    'gt_seg_map': ('gt_sem_seg', torch.int64),
    'gt_pseudo_seg_map': ('gt_pseudo_sem_seg', torch.int64),
    'gt_pseudo_conf': ('gt_pseudo_conf', torch.float32),
    'gt_depth_map': ('gt_depth_map', torch.float32),
    'est_depth_map': ('est_depth_map', torch.float32),
    'gt_disparity_map': ('gt_disparity_map', torch.float32),
    'gt_fg_mask': ('gt_fg_mask', torch.uint8),
    'gt_edge_map': ('gt_edge_map', torch.int64),  # mmseg's GenerateEdge
}

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'depth_map_path', 'disparity_path',
                     'pseudo_seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                     'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                     'frame_ids', 'depth_scale', 'camera', 'mix_info',
                     'seem_num_edge_points')


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """``(H, W[, C])`` array → contiguous ``(C, H, W)`` tensor of the same dtype."""
    if img.ndim == 2:
        img = img[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def frame_order(results: dict) -> List[Hashable]:
    """Ids of ``results['frames']`` in the order of ``results['frame_ids']``.

    Id ``0`` (the target image itself) is skipped when ``frames`` does not hold it.
    Without ``frame_ids`` the dict's insertion order is used.

    Raises:
        KeyError: If ``frame_ids`` and the keys of ``frames`` disagree.
    """
    frames = results['frames']
    if results.get('frame_ids') is None:
        return list(frames)
    order = [i for i in results['frame_ids'] if i != 0 or 0 in frames]
    missing = [i for i in order if i not in frames]
    extra = [i for i in frames if i not in order]
    if missing or extra:
        raise KeyError(f'frame_ids {tuple(results["frame_ids"])} do not match the keys '
                       f'of frames {tuple(frames)} (missing {missing}, unlisted {extra}) '
                       f'for {results.get("img_path", "this sample")}')
    return order


def stack_frames(frames: dict, order: Sequence[Hashable], key: str,
                 hw: Tuple[int, int]) -> torch.Tensor:
    """Stack ``frames[i]`` for ``i`` in ``order`` into a ``(T, C, H, W)`` tensor."""
    tensors = []
    for i in order:
        if frames[i].shape[:2] != tuple(hw):
            raise ValueError(f'{key}[{i!r}] has shape {frames[i].shape}, the image '
                             f'is {hw}')
        tensors.append(image_to_tensor(frames[i]))
    return torch.stack(tensors)


def map_to_pixel_data(arr: np.ndarray, dtype: torch.dtype) -> PixelData:
    """``(H, W)`` (or ``(H, W, C)``) array → ``PixelData`` with ``(1|C, H, W)`` data."""
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[None]
    elif arr.ndim == 3:
        arr = arr.transpose(2, 0, 1)
    else:
        raise ValueError(f'a pixel map must be (H, W) or (H, W, C), got {arr.shape}')
    return PixelData(data=torch.from_numpy(np.ascontiguousarray(arr)).to(dtype))


@TRANSFORMS.register_module()
class PackDepthSemInputs(BaseTransform):
    """Pack ``results`` into ``dict(inputs=..., data_samples=DepthSemDataSample)``.

    Outputs (each only when its source key is present):

    - ``inputs``: ``(3, H, W)`` uint8 tensor, BGR as loaded (the data preprocessor
      normalises and converts colour order).
    - pixel fields, ``PixelData`` with ``(1, H, W)`` data: ``gt_sem_seg`` (int64, from
      ``gt_seg_map``), ``gt_pseudo_sem_seg`` (int64, from ``gt_pseudo_seg_map``),
      ``gt_pseudo_conf`` (float32), ``gt_depth_map`` (float32, metres),
      ``gt_disparity_map`` (float32, pixels), ``est_depth_map`` (float32, metres,
      an estimate used by depth-based mixing), ``gt_fg_mask`` (uint8),
      ``gt_edge_map`` (int64).
    - ``intrinsics``: ``(3, 3)`` float32 tensor, pixels of ``inputs``.
    - ``points``: ``(N, 2)`` float32 tensor of ``(x, y)`` pixels.
    - ``seem_points``: ``(N, 2)`` int64 tensor of ``(x, y)`` pixels, SEEM's point set
      (:class:`SampleSEEMPoints`; metainfo ``seem_num_edge_points``).
    - ``frames``: ``(T, 3, H, W)`` uint8 tensor; metainfo ``frame_ids`` lists their ids
      in the same order (``results['frame_ids']`` order, target id 0 skipped).
    - ``img_clean``: ``(3, H, W)`` uint8 and ``frames_clean``: ``(T, 3, H, W)`` uint8,
      the un-jittered copies (same frame order), when a photometric transform kept them.
    - ``pose_img``: ``(3, H', W')`` uint8 and ``pose_frames``: ``(T, 3, H', W')``
      uint8, the uncropped pose-net views of :class:`KeepUncroppedPoseViews`.
    - metainfo: every ``meta_keys`` entry present in ``results``.

    Args:
        meta_keys: Keys copied into the metainfo. Defaults to mmseg's
            ``PackSegInputs`` keys plus depth / frame keys (:data:`DEFAULT_META_KEYS`).
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack one sample; see the class docstring for the layout."""
        packed = {}
        hw = None
        if results.get('img') is not None:
            packed['inputs'] = image_to_tensor(results['img'])
            hw = tuple(results['img'].shape[:2])
        sample = DepthSemDataSample()
        self._pack_pixel_fields(results, sample, hw, results.get('ori_shape'))
        self._pack_geometry(results, sample)
        meta = {k: results[k] for k in self.meta_keys if k in results}
        if results.get('frames'):
            meta['frame_ids'] = self._pack_frames(results, sample, hw)
        if results.get('img_clean') is not None:
            sample.set_data(dict(img_clean=image_to_tensor(results['img_clean'])))
        if results.get('pose_img') is not None:
            self._pack_pose_views(results, sample)
        sample.set_metainfo(meta)
        packed['data_samples'] = sample
        return packed

    @staticmethod
    def _pack_pixel_fields(results: dict, sample: DepthSemDataSample, hw,
                           ori_shape=None) -> None:
        # A map is either aligned with the (transformed) image, or -- in test
        # pipelines that load targets after resizing, as mmseg's do -- still at the
        # original image size, where predictions are resized back to.
        allowed = {hw, tuple(ori_shape[:2]) if ori_shape is not None else hw}
        for key, (field, dtype) in PIXEL_FIELDS.items():
            if results.get(key) is None:
                continue
            if hw is not None and tuple(results[key].shape[:2]) not in allowed:
                raise ValueError(
                    f'`{key}` has shape {results[key].shape} but `img` is {hw} '
                    f'(original {tuple(ori_shape[:2]) if ori_shape else hw}) for '
                    f'{results.get("img_path", "this sample")}')
            sample.set_data({field: map_to_pixel_data(results[key], dtype)})

    @staticmethod
    def _pack_geometry(results: dict, sample: DepthSemDataSample) -> None:
        if results.get('intrinsics') is not None:
            k = torch.as_tensor(np.asarray(results['intrinsics']), dtype=torch.float32)
            if k.shape != (3, 3):
                raise ValueError(f'`intrinsics` must be (3, 3), got {tuple(k.shape)}')
            sample.intrinsics = k
        if results.get('points') is not None:
            pts = np.asarray(results['points'], dtype=np.float32).reshape(-1, 2)
            sample.points = torch.from_numpy(pts.copy())
        if results.get('seem_points') is not None:
            pts = np.asarray(results['seem_points'])
            if pts.ndim != 2 or pts.shape[1] != 2:
                raise ValueError(f'`seem_points` must be (N, 2), got {pts.shape}')
            sample.seem_points = torch.from_numpy(pts.astype(np.int64))

    @staticmethod
    def _pack_frames(results: dict, sample: DepthSemDataSample, hw) -> tuple:
        order = frame_order(results)
        hw = hw or tuple(next(iter(results['frames'].values())).shape[:2])
        sample.frames = stack_frames(results['frames'], order, 'frames', hw)
        if results.get('frames_clean') is not None:
            sample.set_data(dict(frames_clean=stack_frames(
                results['frames_clean'], order, 'frames_clean', hw)))
        return tuple(order)

    @staticmethod
    def _pack_pose_views(results: dict, sample: DepthSemDataSample) -> None:
        hw = tuple(results['pose_img'].shape[:2])
        sample.set_data(dict(pose_img=image_to_tensor(results['pose_img'])))
        if results.get('pose_frames'):
            sample.set_data(dict(pose_frames=stack_frames(
                results['pose_frames'], frame_order(results), 'pose_frames', hw)))

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
