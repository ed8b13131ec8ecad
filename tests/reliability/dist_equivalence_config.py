# The demo config with every random augmentation removed (each rank then sees the
# same pixels of a sample as one process would) and a hook that records the batches
# and the rank-mean losses (test_distributed_equivalence.py).
_base_ = ['../../configs/multitask/resnet18_synthetic_nyu.py']
custom_imports = dict(imports=['tests.reliability.dist_record_hook'],
                      allow_failed_imports=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation'),
    dict(type='LoadSemAnnotation'),
    dict(type='PackDepthSemInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='SkippedSampleReportHook'),
    dict(type='DistEquivalenceRecordHook'),
]
# Cross-entropy averaged over all pixels of the batch (ignored ones count as 0): with
# the default average over each rank's non-ignored pixels, DDP's mean over ranks
# weights the ranks' pixels unequally whenever their ignored counts differ.
model = dict(sem_head=dict(loss_decode=dict(avg_non_ignore=False)))
# No validation or test loaders: the test compares training only.
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
