# Shared part of SDE-Seg's semi-supervised Cityscapes configs (sec. 4.3): the full
# network (sdeseg_resnet101_ssl.py), labelled split + unlabelled sequences
# (cityscapes_ssl.py, 1/8 = 372 labels by default: pick another split with
# --cfg-options train_dataloader.dataset.labelled.subset_file=splits/<file>), SGD with
# per-module learning rates for 40k iterations, initialised from the transferred SDE
# checkpoint (tools/model_converters/sde_to_segmentation.py; docs/sdeseg.md).
_base_ = [
    '../_base_/models/sdeseg_resnet101_ssl.py',
    '../_base_/datasets/cityscapes_ssl.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd_sdeseg_40k.py',
]
load_from = 'work_dirs/sdeseg_transfer_resnet101_cityscapes.pth'
