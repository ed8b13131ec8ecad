# FSRE (Jung et al., ICCV 2021) on the Monodepth2 model: a semantic decoder on
# pseudo-labels (19 Cityscapes train ids, CE weight gamma = 0.3), bidirectional CMA
# after depth/semantic decoder blocks b = 4, 3, 2 (the paper's l = 0, 1, 2, counted
# from the coarse end; H = 4 embeddings of width 2C), semantics-guided triplet loss
# on depth-decoder blocks b = 3, 2, 1 (the paper's l = 1, 2, 3; K = 5, m = 0.3,
# delta = 0.1). Block index b: Monodepth2 decoder, 4 = coarsest (specs/selfsup_fsre.md).
# Training follows FSRE's released code (hyBlue/FSRE-Depth, trainer_parallel.py; the
# table in docs/selfsup.md), which produced the paper's numbers:
# - scale_weighting='halving': photometric sum_s pe_s / 2^s and smoothness
#   sum_s beta/2^s sm_s ('mean', the paper's "averaged over scales", is the option);
# - align_corners=True in the view synthesis (as the paper's eq. 1);
# - SGT: border='negative' (out-of-image positions are negatives with zero features),
#   include_anchor=True, count_rule='at_least' (|P+|, |P-| >= K-1),
#   level_weighting='halving' (level at stride 2^s weighted 1/2^s) and
#   distance='affinity' (sqrt(max(1e-9, 2 - 2 cos))); the paper-literal rules are
#   border='ignore', include_anchor=False, count_rule='greater',
#   level_weighting='none', distance='euclidean'.
release_sgt_rules = dict(border='negative', include_anchor=True, count_rule='at_least',
                         level_weighting='halving', distance='affinity')
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
                      loss_weight=0.1, **release_sgt_rules),
    triplet_blocks=(3, 2, 1),
    scale_weighting='halving',
    align_corners=True)
