# The demo model trained with NearFarMix in its pipeline form: MixedSampleDataset runs
# the synthetic NYU pipeline (load, resize, crop, flip, jitter) on two samples, then
# NearFarMix (thr ~ U(max(d_min, 1.5), min(d_max, 6.5)) m, p = 0.5) mixes them before
# packing. configs/dss/ablations/mixing/ uses the batch form instead.
_base_ = ['./resnet18_synthetic_nyu.py']
inner_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation'),
    dict(type='LoadSemAnnotation'),
    dict(type='RandomResize', ratio_range=(1.0, 1.25), depth_mode='divide'),
    dict(type='RandomCrop', crop_size=(96, 128)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.1, contrast=0.1, saturation=0.1, prob=0.5),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MixedSampleDataset',
        dataset=dict(
            type='NYUv2Dataset',
            data_root='data/synthetic/nyu_converted',
            split='train',
            num_classes=40,
            image_size=(160, 120),
            pipeline=inner_pipeline),
        pipeline=[
            dict(type='NearFarMix', depth_range=(1.5, 6.5), prob=0.5),
            dict(type='PackDepthSemInputs'),
        ]))
