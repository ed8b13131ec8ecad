"""Batching, normalisation and padding of images and every pixel field."""
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmdepthsem.registry import MODELS

# Value written into padded pixels of each field: its "invalid" value.
PIXEL_FIELD_PAD = {
    'gt_sem_seg': 255,
    'gt_pseudo_sem_seg': 255,
    'gt_fg_mask': 255,
    'gt_depth_map': 0.0,
    'gt_disparity_map': 0.0,
    'gt_pseudo_conf': 0.0,
}

# Image-like data fields normalised and padded exactly like ``inputs``: neighbouring
# frames and the un-jittered copies kept for photometric losses.
IMAGE_FIELDS = ('frames', 'img_clean', 'frames_clean')


@MODELS.register_module()
class DepthSemDataPreProcessor(BaseDataPreprocessor):
    """Normalise images (and neighbouring frames) and pad a batch to one size.

    Unlike mmseg's ``SegDataPreProcessor``, which pads depth with the label pad value
    (255 m of depth), each pixel field is padded with its own invalid value
    (``PIXEL_FIELD_PAD``): labels 255, depth/disparity/confidence 0. Padding is added
    on the right and bottom (targets only in training; at test time predictions are
    cropped back instead, as in mmseg); ``padding_size`` (left, right, top, bottom),
    ``img_shape`` (the padded size, as in mmseg) and ``pad_shape`` go into each
    sample's metainfo.

    Args:
        mean: Per-channel mean subtracted from images (in the order after
            ``bgr_to_rgb``), 0–255 scale.
        std: Per-channel standard deviation.
        bgr_to_rgb: Convert the pipeline's BGR images to RGB.
        size: Pad every batch to this fixed ``(H, W)``.
        size_divisor: Otherwise pad to the batch's largest size rounded up to a
            multiple of this.
        pad_val: Image padding value (after normalisation).
        batch_augments: Configs of batch-level augmentations, applied in training
            as ``inputs, data_samples = aug(inputs, data_samples)``.
    """

    def __init__(self,
                 mean: Optional[Sequence[Number]] = None,
                 std: Optional[Sequence[Number]] = None,
                 bgr_to_rgb: bool = True,
                 size: Optional[Tuple[int, int]] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Number = 0,
                 batch_augments: Optional[List[dict]] = None,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('DepthSemDataPreProcessor: give both `mean` and `std` '
                             'or neither')
        self._enable_normalize = mean is not None
        if self._enable_normalize:
            self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
            self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb
        self.size = tuple(size) if size is not None else None
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.batch_augments = [MODELS.build(cfg) for cfg in batch_augments or []]

    def normalize(self, image: Tensor) -> Tensor:
        """``(..., 3, H, W)`` uint8 BGR -> float, channel order and normalisation."""
        if self.bgr_to_rgb and image.shape[-3] == 3:
            image = image.flip(-3)
        image = image.float()
        if self._enable_normalize:
            image = (image - self.mean) / self.std
        return image

    def _target_size(self, sizes: List[Tuple[int, int]]) -> Tuple[int, int]:
        if self.size is not None:
            return self.size
        height = max(s[0] for s in sizes)
        width = max(s[1] for s in sizes)
        if self.size_divisor:
            d = self.size_divisor
            height, width = -(-height // d) * d, -(-width // d) * d
        return height, width

    def forward(self, data: dict, training: bool = False) -> Dict:
        """Turn a collated batch into model inputs.

        Args:
            data: ``inputs`` (list of ``(3, H, W)`` uint8 tensors) and optional
                ``data_samples`` from the data loader.
            training: Apply ``batch_augments``.

        Returns:
            ``inputs`` ``(B, 3, H, W)`` float and the padded ``data_samples``; samples
            with neighbouring frames or clean copies (``IMAGE_FIELDS``) get them
            normalised and padded alike (``frames``: ``(T, 3, H, W)``).
        """
        data = self.cast_data(data)
        images = data['inputs']
        samples = data.get('data_samples')
        sizes = [tuple(img.shape[-2:]) for img in images]
        height, width = self._target_size(sizes)
        batch = []
        for i, image in enumerate(images):
            pad_h, pad_w = height - image.shape[-2], width - image.shape[-1]
            if pad_h < 0 or pad_w < 0:
                raise ValueError(
                    f'DepthSemDataPreProcessor: image {i} of size {sizes[i]} is '
                    f'larger than the pad size {(height, width)}')
            padding = (0, pad_w, 0, pad_h)
            batch.append(F.pad(self.normalize(image), padding, value=self.pad_val))
            if samples is None:
                continue
            sample = samples[i]
            # Targets are padded for the training losses only; in testing they stay
            # at their own size and the predictions are cropped back to it.
            for name, fill in PIXEL_FIELD_PAD.items() if training else ():
                if name in sample:
                    field = getattr(sample, name)
                    if tuple(field.shape) != sizes[i]:
                        raise ValueError(
                            f'DepthSemDataPreProcessor: training target `{name}` is '
                            f'{tuple(field.shape)} but its image is {sizes[i]} '
                            f'({sample.metainfo.get("img_path", f"sample {i}")}); '
                            'load training targets before geometric transforms')
                    data_tensor = field.data
                    del field.data
                    field.data = F.pad(data_tensor, padding, value=fill)
            for name in IMAGE_FIELDS:
                if name in sample:
                    setattr(sample, name, F.pad(self.normalize(getattr(sample, name)),
                                                padding, value=self.pad_val))
            sample.set_metainfo(dict(img_shape=(height, width),
                                     pad_shape=(height, width),
                                     padding_size=padding))
        inputs = torch.stack(batch)
        if training and self.batch_augments:
            for augment in self.batch_augments:
                inputs, samples = augment(inputs, samples)
        return dict(inputs=inputs, data_samples=samples)
