# KITTI raw for self-supervised training (Monodepth2 conventions, specs/selfsup_fsre.md):
# Eigen-Zhou training split with frames (-1, 0, +1), whole frames resized to 192x640,
# Monodepth2's fixed normalised intrinsics (scaled with the resize), the same colour
# jitter for all frames (p = 0.5) with clean copies for the photometric loss, flips of
# every frame. Offline pseudo-labels (19 Cityscapes train ids) under
# <data_root>/pseudo_labels/cityscapes/ feed the semantic decoder
# (tools/generate_pseudo_labels.py). Evaluation: Eigen test frames, velodyne ground
# truth at full resolution, Garg crop, 80 m cap, per-image median scaling, as
# Monodepth2's evaluate_depth.py (used by FSRE and SGRE too) computes them: the
# predicted disparity is resized to the ground truth's size and then inverted
# (resize_as='disparity'), and only gt < 80 m is kept (strict_max_depth=True);
# resize_as='depth' / strict_max_depth=False is the option.
kitti_eval_protocol = dict(crop='kitti_garg', min_depth=1e-3, max_depth=80.0,
                           median_scaling=True, resize_as='disparity',
                           strict_max_depth=True)
dataset_type = 'KITTIRawDataset'
data_root = 'data/kitti_raw'
image_scale = (640, 192)  # (W, H)
pseudo_label_dir = 'pseudo_labels/cityscapes'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='LoadVelodyneDepth'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=12,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/eigen_zhou/train_files.txt',
        frame_ids=(-1, 1),
        depth_source=None,
        intrinsics_mode='monodepth2',
        pseudo_label_dir=pseudo_label_dir,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/eigen/test_files.txt',
        depth_source='velodyne',
        intrinsics_mode='monodepth2',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='DepthMetric', **kitti_eval_protocol)]
test_evaluator = val_evaluator
