# The GTA sequences of "Playing for Benchmarks" (VIPER) for SDE-Seg's source-domain
# SDE network (sec. 4.2; the release's `gtaseq` data of experiments.py id 310 with
# configs/sde_dec11.yml): every training frame whose neighbours -1 and +1 exist,
# squeezed to 1024x512 (the release trains on 1024x512 copies), random 512x512
# crops, flips and Monodepth2's colour jitter (clean copies for the photometric
# loss); the pose net gets the uncropped, flipped and jittered 1024x512 frames
# (KeepUncroppedPoseViews). Images only: there is no validation metric (the
# release monitors the training loss), so the configs built on this set set
# val_cfg / test_cfg = None.
dataset_type = 'GTA5SequenceDataset'
data_root = 'data/gta5_sequences'
image_scale = (1024, 512)  # (W, H)
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='Resize', scale=image_scale, keep_ratio=False),
    # the release's provide_uncropped_for_pose: the pose net sees the 1024x512 frames
    dict(type='KeepUncroppedPoseViews'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 frame_ids=(-1, 1), pipeline=train_pipeline))
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
