# ESOSD-Net (He et al.) on Cityscapes at 256x512 (19 classes, disparity targets in
# pixels, L1), EM-style alternation (one epoch per phase), Adam 1e-4 constant,
# batch 16, 40 epochs; results on the 500 val images. Paper (Table 1): mIoU 68.2,
# disparity error 2.41 px.
#   bash tools/dist_train.sh configs/sosd/xception65_cityscapes.py 1
_base_ = [
    '../_base_/models/sosd_xception65.py',
    '../_base_/datasets/cityscapes_256x512_disparity.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_sosd.py',
]
model = dict(
    depth_head=dict(target_key='gt_disparity_map', max_depth=256.0),
    sem_head=dict(num_classes=19))
train_dataloader = dict(batch_size=16,
                        sampler=dict(type='DefaultSampler', shuffle=True))
train_cfg = dict(max_epochs=40)
default_hooks = dict(logger=dict(interval=50))
log_processor = dict(by_epoch=True)
