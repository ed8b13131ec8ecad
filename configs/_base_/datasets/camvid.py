# CamVid (SegNet layout, 11 classes, void -> 255) for SDE-Seg's transfer experiments
# (sec. 4.1, Table 11): semi-supervised segmentation with 50 / 100 / 367 labelled
# training images (a split file of sample names, relative to data_root) and every
# training image as unlabelled pool. Transfer learning only: the SDE is trained on
# Cityscapes sequences, so there are no CamVid neighbour frames and no SDE loss.
# Images upsampled from 480x360 to 672x512 (keep_ratio=False), random 512x512 crops,
# flips, no photometric distortion. Evaluation: the 233-image test set at 672x512,
# 11-class mIoU (labels stay at 480x360; predictions are resized back).
dataset_type = 'CamVidDataset'
data_root = 'data/camvid'
labelled_split = 'splits/train_100_seed0.txt'  # 50 / 100 / 367 labelled images
image_scale = (672, 512)  # (W, H)
crop_size = (512, 512)
labelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSemAnnotation'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
unlabelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='LoadSemAnnotation'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SemiSupervisedDataset',
        labelled=dict(
            type=dataset_type, data_root=data_root, split='train',
            subset_file=labelled_split, pipeline=labelled_pipeline),
        unlabelled=dict(
            type=dataset_type, data_root=data_root, split='train', with_seg=False,
            pipeline=unlabelled_pipeline)))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
