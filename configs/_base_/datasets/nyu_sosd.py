# NYU Depth V2 labelled set for SOSD-Net (Section 4.1): 480x640, 40 classes, random
# scale from {1, 1.2, 1.5} with depth / s, crop back to 480x640, colour jitter, flip.
# Evaluation: Eigen crop, depth capped at 10 m, errors pooled over all valid pixels of
# the test set; mIoU, mAcc and aAcc (IoUMetric reports all three).
_base_ = ['./nyu.py']
crop_size = (480, 640)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation'),
    dict(type='LoadSemAnnotation'),
    # Zooming in by s brings the scene closer: depth / s.
    dict(type='RandomResize', ratios=(1.0, 1.2, 1.5), depth_mode='divide'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05,
         prob=0.8),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_evaluator = [
    dict(type='DepthMetric', crop='nyu_eigen', min_depth=1e-3, max_depth=10.0,
         average='pixel'),
    dict(type='IoUMetric', iou_metrics=['mIoU']),
]
test_evaluator = val_evaluator
