# The embedded synthetic street set in the Cityscapes layout (`make data`): 128x256,
# 40 annotated training frames and 10 validation frames with 19-class train ids,
# disparity + camera JSON (depth = baseline * fx / disparity) and sequence neighbours.
_base_ = ['./cityscapes.py']
data_root = 'data/synthetic/cityscapes'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadCityscapesDisparity', to_depth=True),
    dict(type='LoadSemAnnotation'),
    dict(type='RandomResize', ratio_range=(1.0, 1.5), depth_mode='keep_metric'),
    dict(type='RandomCrop', crop_size=(128, 256)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesDisparity', to_depth=True),
    dict(type='LoadSemAnnotation'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, frame_ids=(-1, 1), pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
