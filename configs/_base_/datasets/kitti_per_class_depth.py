# Per-class depth error (SGRE Figure 5): the KITTI Eigen evaluation (Garg crop, 80 m
# cap, per-image median scaling, Monodepth2's protocol: disparity resized, gt < 80 m)
# with AbsRel per Cityscapes class, the classes read from each test frame's
# pseudo-labels (gt_pseudo_sem_seg, 19 train ids). Configs
# set `test_evaluator = {{_base_.per_class_evaluator}}` and load the pseudo-labels
# in their test pipeline.
cityscapes_classes = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
                      'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky',
                      'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                      'bicycle')
per_class_evaluator = [
    dict(type='DepthMetric', crop='kitti_garg', min_depth=1e-3, max_depth=80.0,
         median_scaling=True, resize_as='disparity', strict_max_depth=True,
         class_key='gt_pseudo_sem_seg', class_names=cityscapes_classes)
]
