"""Pose decoder and the pose network (encoder + decoder) of Monodepth2 / FSRE.

The decoder turns the coarsest encoder feature of a frame pair into a 6-DoF relative
pose: 1×1 squeeze conv to 256 channels, ReLU, two 3×3 convs with ReLU, a 1×1 conv to 6
values per pixel, the spatial mean, ``× 0.01`` (small initial motions), split into an
axis-angle rotation (radians) and a translation (metres, up to the unknown scale of
monocular training). :class:`PoseNet` composes it with an encoder of stacked frames
(:class:`~mmdepthsem.models.backbones.PoseResNet`) and owns the frame-order convention.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmdepthsem.models.utils.camera_geometry import pose_vec_to_matrix
from mmdepthsem.registry import MODELS

__all__ = ['PoseDecoder', 'PoseNet']


@MODELS.register_module()
class PoseDecoder(BaseModule):
    """Regress an axis-angle rotation and a translation from one feature map.

    Args:
        in_channels: Channels of the encoder feature (512 for ResNet-18).
        channels: Width of the hidden convolutions (256).
        in_index: Which encoder output to use (the last, stride 32).
        pose_scale: Multiplier of the averaged output (0.01 in Monodepth2).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_channels: int = 512,
                 channels: int = 256,
                 in_index: int = -1,
                 pose_scale: float = 0.01,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_index = in_index
        self.pose_scale = pose_scale
        self.squeeze = nn.Conv2d(in_channels, channels, kernel_size=1)
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv_pose = nn.Conv2d(channels, 6, kernel_size=1)
        self.relu = nn.ReLU()

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Decode a pose.

        Args:
            inputs: Encoder outputs; ``inputs[in_index]`` is ``(B, in_channels, h, w)``.

        Returns:
            ``(axis_angle, translation)``, each ``(B, 3)``: rotation vector in radians
            and translation, for the transform from the first stacked frame's camera
            to the second's (see :meth:`PoseNet.target_to_source`).
        """
        x = self.relu(self.squeeze(inputs[self.in_index]))
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        pose = self.pose_scale * self.conv_pose(x).mean(dim=(2, 3))
        return pose[:, :3], pose[:, 3:]


@MODELS.register_module()
class PoseNet(BaseModule):
    """Pose network: encoder of two stacked frames + :class:`PoseDecoder`.

    Frames are stacked in temporal order (Monodepth2): for a source frame before
    the target the input is ``[source, target]``, otherwise ``[target, source]``, and
    the pose predicted for an earlier source is inverted, so
    :meth:`target_to_source` always returns the transform from the target camera to
    the source camera that :func:`~mmdepthsem.models.utils.warp_frame` expects.

    Args:
        encoder: Config of the encoder (default ResNet-18 over 6 channels).
        decoder: Config of the pose decoder; ``in_channels`` must match the encoder.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 encoder: dict = dict(type='PoseResNet', model_name='resnet18',
                                      num_input_frames=2),
                 decoder: dict = dict(type='PoseDecoder', in_channels=512),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.encoder = MODELS.build(encoder)
        self.decoder = MODELS.build(decoder)

    def forward(self, frames: Tensor) -> Tuple[Tensor, Tensor]:
        """Predict the pose between two stacked frames.

        Args:
            frames: ``(B, 6, H, W)`` two normalised frames stacked on channels.

        Returns:
            ``(axis_angle, translation)``, each ``(B, 3)`` (radians, metres).
        """
        return self.decoder(self.encoder(frames))

    def target_to_source(self, target: Tensor, source: Tensor,
                         frame_id: int) -> Tensor:
        """Transform from the target camera to a source frame's camera.

        Args:
            target: ``(B, 3, H, W)`` normalised target frame (id 0).
            source: ``(B, 3, H, W)`` normalised source frame.
            frame_id: Temporal offset of the source (e.g. ``-1`` or ``+1``); a
                negative id is stacked first and its pose inverted.

        Returns:
            ``(B, 4, 4)`` transform ``T`` with ``X_source = T · X_target``.
        """
        before = frame_id < 0
        pair = [source, target] if before else [target, source]
        axis_angle, translation = self(torch.cat(pair, dim=1))
        return pose_vec_to_matrix(axis_angle, translation, invert=before)
