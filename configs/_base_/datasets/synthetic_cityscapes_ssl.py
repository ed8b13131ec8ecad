# cityscapes_ssl.py on the embedded synthetic street set (`make data`, Cityscapes
# layout, 128x256, 40 training / 10 validation frames with sequence neighbours):
# whole images, random 128x128 crops (the paper's square 512x512 crops of 1024x512
# images, scaled), the labelled split 8 of the 40 training frames (`make data` writes
# splits/train_1-5_seed0.txt; tools/make_subset_split.py draws others).
_base_ = ['./cityscapes_ssl.py']
data_root = 'data/synthetic/cityscapes'
crop_size = (128, 128)
labelled_split = 'splits/train_1-5_seed0.txt'
labelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadSemAnnotation'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
unlabelled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNeighbourFrames'),
    dict(type='LoadSemAnnotation'),
    dict(type='RandomCrop', crop_size=crop_size),
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
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        labelled=dict(data_root=data_root, subset_file=labelled_split,
                      pipeline=labelled_pipeline),
        unlabelled=dict(data_root=data_root, pipeline=unlabelled_pipeline)))
val_dataloader = dict(
    num_workers=1,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
