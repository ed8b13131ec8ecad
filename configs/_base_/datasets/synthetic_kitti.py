# The embedded synthetic street set in the KITTI raw layout (`make data`): 128x416,
# 5 training drives + 1 test drive, velodyne .bin ground truth, calibration files,
# Eigen-Zhou-style training split with neighbouring frames (-1, +1) for
# self-supervised methods, Garg crop and 80 m cap for evaluation.
_base_ = ['./kitti_eigen.py']
data_root = 'data/synthetic/kitti'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadVelodyneDepth'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
         prob=0.5, keep_clean=True),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadVelodyneDepth'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, frame_ids=(-1, 1), pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
