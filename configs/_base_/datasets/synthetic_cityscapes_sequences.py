# cityscapes_sequences.py on the embedded synthetic street set (`make data`,
# Cityscapes layout, 128x256 with sequence neighbours): whole images, random
# 128x128 crops, flips, colour jitter with clean copies. The synthetic snippets hold
# five frames only; the demo trains on their annotated frames (targets='annotated').
_base_ = ['./cityscapes_sequences.py']
data_root = 'data/synthetic/cityscapes'
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1,
         prob=0.5, keep_clean=True),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesDisparity', to_depth=True),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    num_workers=1,
    persistent_workers=False,
    dataset=dict(data_root=data_root, targets='annotated', pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
