# ESOSD-Net (He et al.) on NYU Depth V2 labelled (795 / 654, 40 classes, 480x640):
# SOSD-Net with the EM-style alternation (depth phase / semantic phase, one epoch
# each, depth first), Adam 1e-4 constant, batch 16, 60 epochs. Paper (Tables 2-3):
# rel 0.145, rms 0.514, log10 0.062, d1 0.805; mIoU 45.0, mean acc 64.7, pixel acc
# 73.3 (errors pooled over all valid test pixels).
#   bash tools/dist_train.sh configs/sosd/xception65_nyu.py 1
_base_ = [
    '../_base_/models/sosd_xception65.py',
    '../_base_/datasets/nyu_sosd.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_sosd.py',
]
train_dataloader = dict(batch_size=16,
                        sampler=dict(type='DefaultSampler', shuffle=True))
log_processor = dict(by_epoch=True)
