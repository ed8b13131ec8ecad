# Cityscapes sequences for SDE-Seg's self-supervised depth pretraining (sec. 4.1,
# 4.3): every frame of leftImg8bit_sequence of the training split whose neighbours
# (-1, +1) exist (targets='sequence'; the paper's 83,300 frames), 1024x512, random
# 512x512 crops, flips, Monodepth2's colour jitter (clean copies for the photometric
# loss). Evaluation: depth on val (RMSE, RMSE log; 50 m cap, median scaling;
# Table 9).
dataset_type = 'CityscapesDepthSemDataset'
data_root = 'data/cityscapes'
image_scale = (1024, 512)  # (W, H)
crop_size = (512, 512)
train_pipeline = [
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
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', with_seg=False,
        with_disparity=False, frame_ids=(-1, 1), targets='sequence',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', with_seg=False,
        test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='DepthMetric', max_depth=50.0, median_scaling=True)
test_evaluator = val_evaluator
