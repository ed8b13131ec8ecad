# Per-class AbsRel (SGRE Figure 5) of the SGRE demo model on the synthetic test drive,
# the classes taken from the renderer's stand-in pseudo-labels of the test frames:
#   python tools/test.py configs/sgre/resnet18_synthetic_kitti_per_class.py CKPT
_base_ = [
    './resnet18_synthetic_kitti.py', '../_base_/datasets/kitti_per_class_depth.py'
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
    dict(type='LoadVelodyneDepth'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='PackDepthSemInputs'),
]
test_dataloader = dict(
    dataset=dict(pseudo_label_dir='pseudo_labels/renderer', pipeline=test_pipeline))
test_evaluator = {{_base_.per_class_evaluator}}
