# Synthia -> Cityscapes evaluation (SDE-Seg §4.1; the standard UDA / SSDA protocol).
# The segmentation model keeps Cityscapes' 19 train ids; Synthia labels only 16 of them
# (terrain, truck and train are ignored in training, also in labelled Cityscapes
# samples: LoadSemAnnotation(label_map=synthia_ignored_label_map)). On Cityscapes val the
# confusion matrix is over all 19 classes; the first IoUMetric reports mIoU over the 13
# classes (the 16 without wall, fence, pole; mIoU_all: all 19), the second, prefixed
# 'synthia16/', mIoU over the 16. The lists equal SYNTHIA_13_CLASSES /
# SYNTHIA_16_CLASSES of mmdepthsem/datasets/synthia.py.
# Defines synthia_* variables only; use them in the config:
#   val_evaluator = {{_base_.synthia_evaluator}}
#   test_evaluator = {{_base_.synthia_evaluator}}
synthia_16_classes = [
    'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
    'traffic sign', 'vegetation', 'sky', 'person', 'rider', 'car', 'bus', 'motorcycle',
    'bicycle'
]
synthia_13_classes = [
    'road', 'sidewalk', 'building', 'traffic light', 'traffic sign', 'vegetation', 'sky',
    'person', 'rider', 'car', 'bus', 'motorcycle', 'bicycle'
]
# Cityscapes train ids of terrain (9), truck (14), train (16) -> ignore
synthia_ignored_label_map = {9: 255, 14: 255, 16: 255}
synthia_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU'], eval_classes=synthia_13_classes),
    dict(type='IoUMetric', iou_metrics=['mIoU'], eval_classes=synthia_16_classes,
         prefix='synthia16'),
]
