# FSRE (Jung et al., ICCV 2021) on the Monodepth2 model: a semantic decoder on
# pseudo-labels (19 Cityscapes train ids, CE weight gamma = 0.3), bidirectional CMA
# after depth/semantic decoder blocks b = 4, 3, 2 (the paper's l = 0, 1, 2, counted
# from the coarse end; H = 4 embeddings of width 2C), semantics-guided triplet loss
# on depth-decoder blocks b = 3, 2, 1 (the paper's l = 1, 2, 3; K = 5, m = 0.3,
# delta = 0.1). Block index b: Monodepth2 decoder, 4 = coarsest (specs/selfsup_fsre.md).
_base_ = ['./monodepth2_resnet18.py']
num_classes = 19
decoder_widths = {4: 256, 3: 128, 2: 64}
model = dict(
    sem_decoder=dict(type='MonodepthDepthDecoder', in_channels=(64, 64, 128, 256, 512),
                     out_channels=num_classes, out_activation=None, scales=(0, )),
    sem_loss=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.3,
                  avg_non_ignore=True),
    sem_label_field='gt_pseudo_sem_seg',
    cross_task_blocks={
        b: dict(type='BidirectionalCMA', channels=c, num_embeddings=4)
        for b, c in decoder_widths.items()
    },
    triplet_loss=dict(type='SemanticGuidedTripletLoss', kernel_size=5, margin=0.3,
                      loss_weight=0.1),
    triplet_blocks=(3, 2, 1))
