# Cityscapes for SDE-Seg's semi-supervised training (sec. 4.1, 4.3): each batch
# pairs labelled images (a split file of sample names: 1/30 = 100, 1/8 = 372,
# 1/4 = 744 images, random or chosen by tools/select_annotations.py) with unlabelled
# ones (every training image) and their sequence neighbours (-1, +1) for the SDE
# loss. Images resized to 1024x512, random 512x512 crops, flips; the SDE branch gets
# Monodepth2's colour jitter with clean copies for the photometric loss. Evaluation:
# Cityscapes val at 1024x512, 19-class mIoU, and (Table 9) depth RMSE / RMSE log
# with a 50 m cap and per-image median scaling.
dataset_type = 'CityscapesDepthSemDataset'
data_root = 'data/cityscapes'
labelled_split = 'splits/train_1-8_seed0.txt'  # relative to data_root
image_scale = (1024, 512)  # (W, H)
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
    dict(type='LoadNeighbourFrames'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    dict(type='LoadCityscapesDisparity', to_depth=True),
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
            subset_file=labelled_split, with_disparity=False, with_camera=False,
            pipeline=labelled_pipeline),
        unlabelled=dict(
            type=dataset_type, data_root=data_root, split='train', with_seg=False,
            with_disparity=False, frame_ids=(-1, 1), pipeline=unlabelled_pipeline)))
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
    dict(type='DepthMetric', max_depth=50.0, median_scaling=True),
]
test_evaluator = val_evaluator
