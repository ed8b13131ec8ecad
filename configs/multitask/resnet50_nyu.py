# The plain multi-task baseline on the real NYU Depth V2 labelled set (795/654,
# 40 classes).
_base_ = [
    '../_base_/models/multitask_resnet.py',
    '../_base_/datasets/nyu.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_40k.py',
]
model = dict(depth_head=dict(max_depth=10.0), sem_head=dict(num_classes=40))
