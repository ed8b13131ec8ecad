# The embedded synthetic drives (`make data`, KITTI raw layout, 128x416) for
# self-supervised demos, with kitti_eigen_zhou_selfsup.py's conventions at a small
# size: frames (-1, 0, +1), whole frames resized to 64x224, Monodepth2's normalised
# intrinsics, one colour jitter for all frames (clean copies for the loss), flips.
# The renderer's labels, written as 19 train-id PNGs under
# pseudo_labels/renderer/, stand in for a Cityscapes teacher's pseudo-labels.
# Evaluation: the test drive, velodyne ground truth at 128x416, Garg crop, 80 m cap,
# per-image median scaling.
_base_ = ['./kitti_eigen_zhou_selfsup.py']
data_root = 'data/synthetic/kitti'
image_scale = (224, 64)  # (W, H)
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
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, pseudo_label_dir='pseudo_labels/renderer',
                 pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
