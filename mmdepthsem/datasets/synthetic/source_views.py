"""Single street views with a look of their own: the synthetic *source* domains.

The GTA5- and Synthia-layout writers (:mod:`.gta5_format`, :mod:`.synthia_format`)
render the same procedural streets as the synthetic Cityscapes set, but with a domain
gap to adapt over: another camera (height, pitch, yaw, field of view), another light
and sky, and a colour grade. They also write a stand-in for the depth pseudo-labels
of a source-domain SDE network (:func:`sde_depth_standin`).
"""
from dataclasses import dataclass, replace
from typing import Tuple

import numpy as np

from .classes import CITYSCAPES_ID
from .renderer import RenderResult, render
from .scene import Scene, Sky
from .sequences import street_sequence
from .trajectory import camera_rotation, make_pose

#: Depth written for sky pixels of the SDE stand-in (SDE predicts far, finite depth).
SDE_SKY_DEPTH = 80.0
#: Largest depth of the SDE stand-in before its domain scale, metres.
SDE_MAX_DEPTH = 80.0


@dataclass(frozen=True)
class DomainLook:
    """Camera and appearance of one synthetic source domain.

    Attributes:
        camera_height: ``(low, high)`` camera height above the road, metres.
        pitch: ``(low, high)`` pitch, radians (positive looks down).
        yaw: ``(low, high)`` yaw relative to the driving direction, radians.
        lateral: ``(low, high)`` sideways offset from the ego-lane centre, metres.
        focal_ratio: Focal length / image width.
        ambient, diffuse: Light terms (the street scenes use 0.5, 0.6).
        horizon, zenith: Sky colours (RGB in [0, 1]).
        saturation: Saturation gain of the colour grade.
        contrast: Contrast gain around mid-grey.
        tint: Per-channel RGB gain.
        sde_scale: Scale of the SDE stand-in relative to metres (SDE networks of
            different domains have unrelated scales).
    """

    camera_height: Tuple[float, float]
    pitch: Tuple[float, float]
    yaw: Tuple[float, float]
    lateral: Tuple[float, float]
    focal_ratio: float
    ambient: float
    diffuse: float
    horizon: Tuple[float, float, float]
    zenith: Tuple[float, float, float]
    saturation: float
    contrast: float
    tint: Tuple[float, float, float]
    sde_scale: float


def grade(rgb: np.ndarray, look: DomainLook) -> np.ndarray:
    """Apply the domain's colour grade.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB.
        look: The domain look.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    x = rgb.astype(np.float32) / 255.0
    grey = x.mean(axis=2, keepdims=True)
    x = grey + (x - grey) * look.saturation
    x = 0.5 + (x - 0.5) * look.contrast
    x = x * np.asarray(look.tint, np.float32)
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def styled_street(rng: np.random.Generator, name: str, look: DomainLook,
                  num_frames: int, speed: float
                  ) -> Tuple[Scene, np.ndarray, np.ndarray]:
    """A fresh street in the domain's light and sky, and its camera mounting.

    Args:
        rng: Random generator; draws the street, then yaw, pitch, lateral offset
            and height of the camera.
        name: Scene name.
        look: Camera mounting and appearance.
        num_frames: Vehicle poses along the street.
        speed: Metres per frame.

    Returns:
        The scene, ``(num_frames, 4, 4)`` vehicle-to-world poses and the
        ``(4, 4)`` camera-to-vehicle pose.
    """
    scene, vehicle_poses, _ = street_sequence(rng, num_frames, speed, name=name)
    scene.light = replace(scene.light, ambient=look.ambient, diffuse=look.diffuse)
    scene.sky = Sky(horizon=look.horizon, zenith=look.zenith, label=CITYSCAPES_ID['sky'])
    cam_to_vehicle = make_pose(
        camera_rotation(float(rng.uniform(*look.yaw)), float(rng.uniform(*look.pitch)),
                        0.0),
        (0.0, float(rng.uniform(*look.lateral)), float(rng.uniform(*look.camera_height))))
    return scene, vehicle_poses, cam_to_vehicle


def render_source_view(rng: np.random.Generator, name: str, height: int, width: int,
                       look: DomainLook) -> RenderResult:
    """Render one view of a fresh street with the domain's camera and look.

    Args:
        rng: Random generator (the only source of randomness).
        name: Scene name.
        height, width: Image size, pixels.
        look: Camera and appearance.

    Returns:
        RenderResult: The graded view; labels are Cityscapes label ids.
    """
    scene, vehicle_poses, cam_to_vehicle = styled_street(rng, name, look, 1, 0.0)
    focal = look.focal_ratio * width
    K = np.array([[focal, 0.0, (width - 1) / 2], [0.0, focal, (height - 1) / 2],
                  [0.0, 0.0, 1.0]])
    view = render(scene, K, vehicle_poses[0] @ cam_to_vehicle, height, width)
    view.rgb = grade(view.rgb, look)
    return view


#: Stored depth-estimate value per metre of the ``sde_depth`` PNGs (the
#: ``LoadDepthEstimate`` default).
SDE_DEPTH_SCALE = 256.0


def sde_depth_standin(view: RenderResult, look: DomainLook) -> np.ndarray:
    """A stand-in for a source-domain SDE depth estimate of ``view``.

    The exact depth, capped at :data:`SDE_MAX_DEPTH`, sky set to
    :data:`SDE_SKY_DEPTH`, times the domain's unknown scale ``look.sde_scale``.
    A real run uses the predictions of an SDE network trained on the domain's
    sequences instead.

    Returns:
        ``(H, W)`` float32, "SDE metres" (> 0 everywhere).
    """
    depth = np.where(view.depth > 0, np.minimum(view.depth, SDE_MAX_DEPTH), SDE_SKY_DEPTH)
    return (depth * look.sde_scale).astype(np.float32)
