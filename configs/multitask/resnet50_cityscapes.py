# The plain multi-task baseline on Cityscapes (19 classes, depth from disparity).
_base_ = [
    '../_base_/models/multitask_resnet.py',
    '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_40k.py',
]
model = dict(depth_head=dict(max_depth=80.0), sem_head=dict(num_classes=19))
