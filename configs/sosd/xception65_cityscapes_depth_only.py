# Depth-only baseline (Table 1): disparity error 2.47 px in the paper.
_base_ = ['./xception65_cityscapes_mtl.py']
model = dict(sem_head=None)
val_evaluator = [
    dict(type='DepthMetric', gt_key='gt_disparity_map', pred_key='pred_depth_map',
         min_depth=0.0, max_depth=256.0, average='pixel', metrics=['mae'])
]
test_evaluator = val_evaluator
