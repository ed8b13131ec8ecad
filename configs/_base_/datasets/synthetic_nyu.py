# The embedded synthetic indoor set in the NYU layout: rendered by
# tools/dataset_converters/generate_synthetic.py (NYU .mat + splits + mapping files) and
# converted by tools/dataset_converters/nyu.py exactly like the real set (`make data`).
# 120x160 images, 200 train / 50 test frames, NYU-40 class ids, depth < 10 m.
_base_ = ['./nyu.py']
data_root = 'data/synthetic/nyu_converted'
image_size = (160, 120)  # (W, H), scales the NYU camera
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation'),
    dict(type='LoadSemAnnotation'),
    dict(type='RandomResize', ratio_range=(1.0, 1.25), depth_mode='divide'),
    dict(type='RandomCrop', crop_size=(96, 128)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.1, contrast=0.1, saturation=0.1, prob=0.5),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation'),
    dict(type='LoadSemAnnotation'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(data_root=data_root, image_size=image_size, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(data_root=data_root, image_size=image_size, pipeline=test_pipeline))
test_dataloader = val_dataloader
