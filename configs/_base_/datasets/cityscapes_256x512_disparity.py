# Cityscapes for SOSD-Net (Section 4.1): 256x512 images, 19-class train-id labels and
# disparity targets. `gt_disparity_map` holds (p - 1) / 256 pixels for p > 0 (0 =
# invalid); the geometric transforms multiply it by the horizontal resize factor
# (disparity is proportional to the focal length in pixels) and pad it with 0.
dataset_type = 'CityscapesDepthSemDataset'
data_root = 'data/cityscapes'
image_size = (512, 256)  # (W, H) of the training / evaluation resolution
crop_size = (256, 512)  # (H, W)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesDisparity', to_depth=False),
    dict(type='LoadSemAnnotation'),
    # 2048x1024 -> 512x256, then a random scale from the paper's set.
    dict(type='Resize', scale=image_size),
    dict(type='RandomResize', ratios=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75),
         depth_mode='keep_metric'),
    # Back to 256x512: crops larger images; smaller ones (ratios < 1) are padded
    # at the bottom / right (labels 255, disparity 0 = invalid).
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
         prob=0.8),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
# Ground truth is loaded first and resized with the image, so labels and disparity
# (x 0.25, in pixels of the 512x256 image) are evaluated at 256x512.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesDisparity', to_depth=False),
    dict(type='LoadSemAnnotation'),
    dict(type='Resize', scale=image_size),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    # Mean absolute disparity error (pixels), pooled over the valid pixels (gt > 0) of
    # the val set. The depth head's output field carries disparity for this data set.
    # max_depth only bounds the range: stored disparities are < 65536 / 256 = 256 px.
    dict(type='DepthMetric', gt_key='gt_disparity_map', pred_key='pred_depth_map',
         min_depth=0.0, max_depth=256.0, average='pixel', metrics=['mae']),
]
test_evaluator = val_evaluator
