# KITTI raw, Eigen split, supervised by projected velodyne points (80 m cap, Garg crop).
# Split files (`date/drive frame side` per line) are supplied by the user, see
# docs/dataset_prepare.md. Training uses the KITTI benchmark crop (352x1216).
dataset_type = 'KITTIRawDataset'
data_root = 'data/kitti_raw'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVelodyneDepth'),
    dict(type='KBCrop', height=352, width=1216),
    dict(type='RandomCrop', crop_size=(352, 704)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
         prob=0.8),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVelodyneDepth'),
    dict(type='KBCrop', height=352, width=1216),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/eigen_zhou/train_files.txt',
        depth_source='velodyne',
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
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='DepthMetric', crop='kitti_garg', max_depth=80.0)]
test_evaluator = val_evaluator
