# Shared part of the SDE-Seg rows that the released code trains without multi-task
# learning (Tables 3 and 5: baseline, pseudo-labels, ClassMix, DepthMix, transfer;
# experiments.py id 210, segmentation_name 'joint_seg_depth_dec'): no PAD-Net
# distillation and no intermediate head, and a segmentation head that projects the
# last decoder block to 64 channels by a bias-free 1x1 conv before the 1x1 class
# conv (head_inter=False: no 3x3 conv between them). These rows have no SDE loss
# (depth_loss_weight=0 in each), so the depth decoder gets no gradient.
# The one-network reading of the paper (PAD-Net at block 2 in every row, side
# output on): --cfg-options model.cross_task_blocks.2.type=AttentionGuidedDistillation
# model.cross_task_blocks.2.channels=128 model.cross_task_blocks.2.gate_source=sender
# model.cross_task_blocks.2.bias=False model.cross_task_blocks.2.zero_init_gate=True
# model.sem_decoder.side_outputs=[2] model.sem_decoder.head_kernel_size=3
# model.sem_decoder.head_channels=None
_base_ = ['./_ssl_resnet101_cityscapes.py']
model = dict(
    cross_task_blocks=dict(_delete_=True),
    sem_decoder=dict(side_outputs=(), head_kernel_size=1, head_channels=64))
