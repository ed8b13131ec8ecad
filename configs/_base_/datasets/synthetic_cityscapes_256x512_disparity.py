# The SOSD Cityscapes disparity setting on the embedded synthetic street set (`make
# data`). Its frames are rendered at 128x256, half of SOSD's 256x512: they keep that
# native size (upsampling would only add interpolated pixels), so every size of
# cityscapes_256x512_disparity.py is halved here, with the same random scales.
_base_ = ['./cityscapes_256x512_disparity.py']
data_root = 'data/synthetic/cityscapes'
image_size = (256, 128)  # (W, H); a no-op on the rendered frames
crop_size = (128, 256)  # (H, W)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesDisparity', to_depth=False),
    dict(type='LoadSemAnnotation'),
    dict(type='Resize', scale=image_size),
    dict(type='RandomResize', ratios=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75),
         depth_mode='keep_metric'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
         prob=0.8),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCityscapesDisparity', to_depth=False),
    dict(type='LoadSemAnnotation'),
    dict(type='Resize', scale=image_size),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
