# Stage 1 of the DSS demo, the analogue of configs/dss/maxvit_ade20k_pretrain.py: the
# demo's encoder-decoder, both task necks (symbiosis=False, so that the state-dict
# names equal stage 2's) and the semantic head, trained for semantics only
# (cross-entropy + Jaccard, no depth head) on 100 synthetic rooms rendered with
# another seed than the demo's (`make data-dss`: 80 rooms x 4 frames to train on, 20
# rooms to validate on; none of them is a demo train or test room).
# configs/dss/maxvit_pico_synthetic_nyu.py and its baselines load the last checkpoint:
#   python tools/train.py configs/dss/demo/maxvit_pico_synthetic_rooms_stage1.py \
#       --work-dir work_dirs/demo_dss/stage1      -> iter_400.pth
_base_ = ['../maxvit_pico_synthetic_nyu.py']
stage1_rooms = 'data/synthetic_rooms_stage1/nyu_converted'
max_iters = 400
model = dict(
    init_cfg=None,
    task_neck=dict(symbiosis=False),  # no LG-CAT: the Symbiotic Transformer is stage 2
    depth_head=None,
    sem_head=dict(loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=False, avg_non_ignore=True,
             loss_weight=1.0),
        dict(type='JaccardLoss', smooth=1.0, loss_weight=1.0),
    ]),
    data_preprocessor=dict(batch_augments=[]))  # no NearFarMix without depth labels
# the depth neck gets no gradient in stage 1 (as in the ADE20K config)
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
train_dataloader = dict(dataset=dict(data_root=stage1_rooms))
val_dataloader = dict(dataset=dict(data_root=stage1_rooms))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
