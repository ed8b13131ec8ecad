"""Batching, normalisation and padding of images and every pixel field."""
from collections import Counter
from numbers import Number
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmdepthsem.datasets.transforms.formatting import PIXEL_FIELDS
from mmdepthsem.datasets.transforms.geometric import LABEL_KEYS, ZERO_PAD_KEYS
from mmdepthsem.registry import MODELS

# Value written into padded pixels of each data-sample field: its "invalid" value,
# as the geometric transforms pad the same maps (labels 255, continuous maps 0).
PIXEL_FIELD_PAD = {
    PIXEL_FIELDS[key][0]: 0.0 if key in ZERO_PAD_KEYS else 255
    for key in LABEL_KEYS + ZERO_PAD_KEYS
}

# Image-like data fields normalised and padded exactly like ``inputs``: neighbouring
# frames and the un-jittered copies kept for photometric losses.
IMAGE_FIELDS = ('frames', 'img_clean', 'frames_clean')
# Uncropped pose-net views (KeepUncroppedPoseViews): normalised, not padded (every
# sample of a batch has them at the one size its pipeline resized to).
POSE_FIELDS = ('pose_img', 'pose_frames')


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
        batch_augments: Configs of batch-level augmentations (e.g.
            ``BatchNearFarMix``), applied in training as
            ``inputs, data_samples = aug(inputs, data_samples)`` on float RGB
            images in 0–255 (after padding, before normalisation).
        keep_unmixed: Also keep the normalised batch as it was before the
            augments, in each sample's ``img_unmixed`` ``(3, H, W)``, for an online
            teacher that must label un-mixed images (set by estimators with a
            teacher).
    """

    def __init__(self,
                 mean: Optional[Sequence[Number]] = None,
                 std: Optional[Sequence[Number]] = None,
                 bgr_to_rgb: bool = True,
                 size: Optional[Tuple[int, int]] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: Number = 0,
                 batch_augments: Optional[List[dict]] = None,
                 keep_unmixed: bool = False,
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
        self.keep_unmixed = keep_unmixed

    def to_float_rgb(self, image: Tensor) -> Tensor:
        """``(..., C, H, W)`` uint8 (BGR) -> float in 0–255, RGB if ``bgr_to_rgb``."""
        if self.bgr_to_rgb and image.shape[-3] == 3:
            image = image.flip(-3)
        return image.float()

    def normalize_float(self, image: Tensor) -> Tensor:
        """Subtract ``mean`` and divide by ``std`` (float RGB images)."""
        if self._enable_normalize and image.shape[-3] == self.mean.shape[0]:
            image = (image - self.mean) / self.std
        return image

    def denormalize(self, image: Tensor) -> Tensor:
        """Inverse of :meth:`normalize_float`: back to float RGB in 0–255."""
        if self._enable_normalize and image.shape[-3] == self.mean.shape[0]:
            image = image * self.std + self.mean
        return image

    def _pad_raw(self, image: Tensor, height: int, width: int) -> Tensor:
        """Pad a float 0–255 image so that it normalises to ``pad_val``."""
        fill = torch.full((), float(self.pad_val), device=image.device)
        if self._enable_normalize and image.shape[-3] == self.mean.shape[0]:
            fill = self.pad_val * self.std + self.mean  # (C, 1, 1)
        out = fill.expand(*image.shape[:-2], height, width).clone()
        out[..., :image.shape[-2], :image.shape[-1]] = image
        return out

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
            batch.append(self._pad_raw(self.to_float_rgb(image), height, width))
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
                    setattr(sample, name, self._pad_raw(
                        self.to_float_rgb(getattr(sample, name)), height, width))
            sample.set_metainfo(dict(img_shape=(height, width),
                                     pad_shape=(height, width),
                                     padding_size=padding))
        inputs = torch.stack(batch)
        if training and self.batch_augments:
            unmixed = inputs.clone() if self.keep_unmixed else None
            # Augments see float RGB images in 0–255, before normalisation, so
            # mixes can paint pixel values (CutDepth) and round warped images
            # exactly as the pipeline transforms do on uint8 images.
            for augment in self.batch_augments:
                inputs, samples = augment(inputs, samples)
            if unmixed is not None and samples is not None:
                unmixed = self.normalize_float(unmixed)
                for sample, image in zip(samples, unmixed):
                    sample.img_unmixed = image
        inputs = self.normalize_float(inputs)
        for sample in samples or ():
            for name in IMAGE_FIELDS:
                if name in sample:
                    setattr(sample, name, self.normalize_float(getattr(sample, name)))
            for name in POSE_FIELDS:
                if name in sample:
                    setattr(sample, name, self.normalize_float(
                        self.to_float_rgb(getattr(sample, name))))
        if training and samples:
            log_mix_statistics(samples)
        return dict(inputs=inputs, data_samples=samples)


def log_mix_statistics(samples: Sequence) -> None:
    """Put the share of mixed samples (and why others were not) into the log.

    Reads each sample's ``mix_info`` metainfo (written by the pipeline mixes and
    the batch mixes) and updates the message hub scalars ``train/mix_applied`` and
    ``train/mix_skipped_<reason>`` (fractions of the batch; ``'prob'`` skips are
    the configured probability, not a problem).
    """
    infos = [s.metainfo['mix_info'] for s in samples if 'mix_info' in s.metainfo]
    if not infos:
        return
    hub = MessageHub.get_current_instance()
    count = len(infos)
    hub.update_scalar('train/mix_applied',
                      sum(bool(i.get('applied')) for i in infos) / count)
    reasons = Counter(i['skipped'] for i in infos if i.get('skipped'))
    for reason, num in reasons.items():
        if reason != 'prob':
            hub.update_scalar(f'train/mix_skipped_{reason}', num / count)
