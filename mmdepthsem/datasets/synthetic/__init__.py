"""Embedded synthetic data: procedurally rendered rooms and streets with exact depth.

Scenes are textured, labelled axis-aligned boxes (see :mod:`.scene`, :mod:`.indoor`,
:mod:`.street`) rendered by a vectorised numpy ray caster (:mod:`.renderer`) along smooth
camera paths (:mod:`.trajectory`). Writers put them on disk in the real NYU Depth V2,
KITTI and Cityscapes formats (:mod:`.nyu_format`, :mod:`.kitti_format`,
:mod:`.cityscapes_format`), so the real dataset loaders read them unchanged.
``tools/dataset_converters/generate_synthetic.py`` is the command-line front end of
:func:`generate_dataset`. Everything is deterministic given the seed; nothing imports
torch.
"""
from .classes import (CITYSCAPES_CLASSES, CITYSCAPES_ID, NYU13_CLASS_NAMES,
                      NYU40_CLASS_NAMES, NYU_CLASSES, NYU_RAW_ID, CityscapesClass,
                      NYUClass, cityscapes_color_lut, cityscapes_train_id_lut,
                      nyu_class_mapping13, nyu_class_mapping40)
from .cityscapes_format import (CityscapesConfig, camera_matrices, cityscapes_camera,
                                disparity_png, render_cityscapes_snippet,
                                write_cityscapes)
from .generate import (GENERATOR_VERSION, MANIFEST_NAME, PAPER_CONFIGS, PRESETS,
                       TINY_CONFIGS, GenerateResult, generate_dataset, is_up_to_date,
                       override_config)
from .indoor import ROOM_TYPES, make_room_scene
from .kitti_format import (KITTICalibration, KITTIConfig, KITTIFrame, drive_name,
                           kitti_calibration, kitti_drive, render_kitti_frame,
                           write_kitti)
from .nyu_format import NYUConfig, nyu_intrinsics, render_nyu_scene, write_nyu
from .renderer import RayHits, RenderResult, cast_rays, pixel_rays, render
from .scene import Box, Light, Scene, Sky
from .sequences import room_sequence, sequence_rng, street_sequence
from .street import StreetLayout, make_street_scene, sample_street_layout
from .textures import PATTERNS, Material
from .trajectory import (camera_rotation, invert_pose, make_pose, relative_pose,
                         room_trajectory, street_trajectory)

__all__ = [
    # scenes and rendering
    'Box',
    'Light',
    'Sky',
    'Scene',
    'Material',
    'PATTERNS',
    'render',
    'cast_rays',
    'pixel_rays',
    'RenderResult',
    'RayHits',
    # procedural content and motion
    'ROOM_TYPES',
    'make_room_scene',
    'StreetLayout',
    'sample_street_layout',
    'make_street_scene',
    'room_sequence',
    'street_sequence',
    'sequence_rng',
    'room_trajectory',
    'street_trajectory',
    'camera_rotation',
    'make_pose',
    'invert_pose',
    'relative_pose',
    # class vocabularies
    'NYU_CLASSES',
    'NYUClass',
    'NYU_RAW_ID',
    'NYU40_CLASS_NAMES',
    'NYU13_CLASS_NAMES',
    'nyu_class_mapping40',
    'nyu_class_mapping13',
    'CITYSCAPES_CLASSES',
    'CityscapesClass',
    'CITYSCAPES_ID',
    'cityscapes_train_id_lut',
    'cityscapes_color_lut',
    # format writers
    'NYUConfig',
    'write_nyu',
    'render_nyu_scene',
    'nyu_intrinsics',
    'KITTIConfig',
    'KITTICalibration',
    'KITTIFrame',
    'write_kitti',
    'render_kitti_frame',
    'kitti_calibration',
    'kitti_drive',
    'drive_name',
    'CityscapesConfig',
    'write_cityscapes',
    'render_cityscapes_snippet',
    'cityscapes_camera',
    'camera_matrices',
    'disparity_png',
    # one-shot generation
    'GENERATOR_VERSION',
    'MANIFEST_NAME',
    'TINY_CONFIGS',
    'PAPER_CONFIGS',
    'PRESETS',
    'GenerateResult',
    'generate_dataset',
    'is_up_to_date',
    'override_config',
]
