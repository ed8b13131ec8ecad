# Per-class AbsRel of an SGRE checkpoint on the Eigen test frames (Figure 5): KITTI
# raw has no semantic labels there, so, as the paper, the classes come from
# pseudo-labels (19 Cityscapes train ids) of the test frames, written next to the
# training ones by
#   python tools/generate_pseudo_labels.py TEACHER_CONFIG TEACHER_CKPT \
#       --data-config configs/sgre/resnet50_kitti.py --phase test \
#       --out-dir data/kitti_raw/pseudo_labels/cityscapes
#   python tools/test.py configs/sgre/resnet50_kitti_per_class.py CKPT
# The Monodepth2 ResNet-50 baseline of Figure 5 is
# ablations/resnet50_kitti_baseline.py with this config's test_dataloader and
# test_evaluator (demo/sgre_ablation_report.py does exactly that).
_base_ = ['./resnet50_kitti.py', '../_base_/datasets/kitti_per_class_depth.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=False),
    dict(type='LoadVelodyneDepth'),
    dict(type='LoadPseudoLabel', num_classes=19),
    dict(type='PackDepthSemInputs'),
]
test_dataloader = dict(
    dataset=dict(pseudo_label_dir={{_base_.pseudo_label_dir}},
                 pipeline=test_pipeline))
test_evaluator = {{_base_.per_class_evaluator}}
