"""Photometric augmentation applied identically to the image and its neighbouring frames.

Self-supervised depth compares the target image with source frames warped into it, so
every frame must receive exactly the same colour change as ``img``: one set of parameters
is drawn per sample and applied to ``img`` and every image in ``results['frames']``.
With ``keep_clean=True`` the un-augmented images are kept in ``results['img_clean']``
(``(H, W, 3)`` uint8 BGR) and ``results['frames_clean']`` (dict id → image) for the
photometric loss; the first transform that stores them wins, so a chain of photometric
transforms keeps the truly original images.

mmseg's ``PhotoMetricDistortion`` stays usable by name; it changes ``img`` only.
"""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmdepthsem.registry import TRANSFORMS

Range = Union[float, Sequence[float]]

#: ITU-R BT.601 luma weights in B, G, R order.
BGR_LUMA = (0.114, 0.587, 0.299)


def store_clean_copies(results: dict) -> None:
    """Keep copies of ``img`` / ``frames`` as ``img_clean`` / ``frames_clean`` once."""
    if results.get('img') is not None and 'img_clean' not in results:
        results['img_clean'] = results['img'].copy()
    if results.get('frames') is not None and 'frames_clean' not in results:
        results['frames_clean'] = {k: v.copy() for k, v in results['frames'].items()}


def map_images(results: dict, fn) -> None:
    """Replace ``img`` and every frame in ``frames`` (and the uncropped pose views
    ``pose_img`` / ``pose_frames``, :class:`KeepUncroppedPoseViews`) by ``fn(image)``."""
    for key in ('img', 'pose_img'):
        if results.get(key) is not None:
            results[key] = fn(results[key])
    for key in ('frames', 'pose_frames'):
        if results.get(key) is not None:
            results[key] = {k: fn(v) for k, v in results[key].items()}


def shift_hue(img: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue of a ``(H, W, 3)`` uint8 BGR image by ``shift`` turns.

    Args:
        img: ``(H, W, 3)`` uint8 BGR image.
        shift: Hue rotation as a fraction of the colour circle, in ``[-0.5, 0.5]``.

    Returns:
        ``(H, W, 3)`` uint8 BGR image.
    """
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)  # hue in 0..255 = one full turn
    offset = int(round(shift * 256)) % 256
    hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + offset) % 256).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)


def _factor_range(value: Range, name: str, center: float, bound: Tuple[float, float]
                  ) -> Optional[Tuple[float, float]]:
    """``v -> (center - v, center + v)`` clipped to ``bound``; a pair is taken as is.

    Returns ``None`` when the range is the identity (``(center, center)``).
    """
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f'ColorJitter {name}={value} must be >= 0')
        lo, hi = max(center - value, bound[0]), center + value
    else:
        lo, hi = (float(v) for v in value)
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ValueError(f'ColorJitter {name} range {(lo, hi)} must lie in {bound}')
    return None if lo == hi == center else (lo, hi)


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Random brightness, contrast, saturation and hue, shared by ``img`` and ``frames``.

    Ranges follow torchvision's ``ColorJitter``: a number ``v`` means a factor drawn
    uniformly from ``[max(0, 1 - v), 1 + v]`` (hue: a shift in ``[-v, v]`` turns,
    ``v <= 0.5``); a pair gives the range directly. Factors and the order of the four
    operations are drawn once per sample. Brightness scales pixel values; contrast
    blends with the image's mean grey (``mmcv.adjust_contrast``; each frame uses its
    own mean, as torchvision does); saturation blends with the grey image
    (``mmcv.adjust_color``); hue rotates the HSV hue.

    Required keys: ``img``. Modified: ``img``, ``frames``. Added (``keep_clean``):
    ``img_clean``, ``frames_clean``.

    Args:
        brightness: Brightness jitter. Defaults to 0 (off).
        contrast: Contrast jitter. Defaults to 0.
        saturation: Saturation jitter. Defaults to 0.
        hue: Hue jitter in turns, ``<= 0.5``. Defaults to 0.
        prob: Probability of jittering a sample. Defaults to 1.
        random_order: Draw a random order of the four operations (torchvision);
            otherwise brightness, contrast, saturation, hue.
        keep_clean: Store the un-jittered images (also when this sample is not
            jittered) as ``img_clean`` / ``frames_clean``.
    """

    _OPS = ('brightness', 'contrast', 'saturation', 'hue')

    def __init__(self,
                 brightness: Range = 0.,
                 contrast: Range = 0.,
                 saturation: Range = 0.,
                 hue: Range = 0.,
                 prob: float = 1.0,
                 random_order: bool = True,
                 keep_clean: bool = False) -> None:
        if not 0. <= prob <= 1.:
            raise ValueError(f'ColorJitter prob must be in [0, 1], got {prob}')
        inf = float('inf')
        self.brightness = _factor_range(brightness, 'brightness', 1., (0., inf))
        self.contrast = _factor_range(contrast, 'contrast', 1., (0., inf))
        self.saturation = _factor_range(saturation, 'saturation', 1., (0., inf))
        self.hue = _factor_range(hue, 'hue', 0., (-0.5, 0.5))
        self.prob = prob
        self.random_order = random_order
        self.keep_clean = keep_clean

    @cache_randomness
    def sample_params(self) -> Optional[List[Tuple[str, float]]]:
        """Draw ``[(operation, factor), ...]`` in application order, or ``None``."""
        if np.random.rand() >= self.prob:
            return None
        order = (np.random.permutation(len(self._OPS)) if self.random_order else
                 range(len(self._OPS)))
        params = []
        for i in order:
            name = self._OPS[i]
            bounds = getattr(self, name)
            if bounds is not None:
                params.append((name, float(np.random.uniform(*bounds))))
        return params

    @staticmethod
    def apply(img: np.ndarray, params: Sequence[Tuple[str, float]]) -> np.ndarray:
        """Apply drawn ``params`` to one ``(H, W, 3)`` uint8 BGR image."""
        for name, factor in params:
            if name == 'brightness':
                img = mmcv.adjust_brightness(img, factor, backend='cv2')
            elif name == 'contrast':
                img = mmcv.adjust_contrast(img, factor, backend='cv2')
            elif name == 'saturation':
                img = mmcv.adjust_color(img, alpha=factor, backend='cv2')
            else:
                img = shift_hue(img, factor)
        return img

    def transform(self, results: dict) -> dict:
        """Jitter ``img`` and every frame with one set of parameters."""
        if self.keep_clean:
            store_clean_copies(results)
        params = self.sample_params()
        if params:
            map_images(results, lambda im: self.apply(im, params))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'hue={self.hue}, prob={self.prob}, random_order={self.random_order}, '
                f'keep_clean={self.keep_clean})')


@TRANSFORMS.register_module()
class RandomGrayscale(BaseTransform):
    """With probability ``prob`` turn ``img`` and all ``frames`` to grey together.

    Shadows mmcv's ``RandomGrayscale`` in the ``mmdepthsem`` scope and accepts its
    arguments, but defaults to 3 output channels (the model expects 3) and to luma
    weights (BT.601) instead of the plain channel mean.

    Args:
        prob: Probability of converting a sample. Defaults to 0.1.
        keep_channels: Repeat the grey channel to 3 channels (``True``) or return
            ``(H, W)`` images.
        channel_weights: Weights of the channels in the image's order; normalised to
            sum 1. Defaults to luma weights for ``color_format``.
        color_format: ``'bgr'`` (mmcv's convention) or ``'rgb'``; only picks the
            default weights.
        keep_clean: Store un-augmented copies as ``img_clean`` / ``frames_clean``.
    """

    def __init__(self,
                 prob: float = 0.1,
                 keep_channels: bool = True,
                 channel_weights: Optional[Sequence[float]] = None,
                 color_format: str = 'bgr',
                 keep_clean: bool = False) -> None:
        if not 0. <= prob <= 1.:
            raise ValueError(f'RandomGrayscale prob must be in [0, 1], got {prob}')
        if color_format not in ('bgr', 'rgb'):
            raise ValueError(f"color_format must be 'bgr' or 'rgb', got {color_format!r}")
        if channel_weights is None:
            channel_weights = BGR_LUMA if color_format == 'bgr' else BGR_LUMA[::-1]
        if len(channel_weights) != 3 or sum(channel_weights) <= 0:
            raise ValueError(f'channel_weights must be 3 weights with a positive sum, '
                             f'got {channel_weights}')
        self.prob = prob
        self.keep_channels = keep_channels
        self.channel_weights = tuple(float(w) for w in channel_weights)
        self.color_format = color_format
        self.keep_clean = keep_clean

    @cache_randomness
    def _do_convert(self) -> bool:
        return bool(np.random.rand() < self.prob)

    def to_gray(self, img: np.ndarray) -> np.ndarray:
        """``(H, W, 3)`` uint8 → ``(H, W, 3)`` (or ``(H, W)``) uint8 grey."""
        weights = np.asarray(self.channel_weights, dtype=np.float32)
        gray = img.astype(np.float32) @ (weights / weights.sum())
        gray = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2) if self.keep_channels else gray

    def transform(self, results: dict) -> dict:
        """Convert ``img`` and every frame, or none of them."""
        if self.keep_clean:
            store_clean_copies(results)
        if self._do_convert():
            map_images(results, self.to_gray)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'keep_channels={self.keep_channels}, '
                f'channel_weights={self.channel_weights}, '
                f'color_format={self.color_format!r}, keep_clean={self.keep_clean})')
