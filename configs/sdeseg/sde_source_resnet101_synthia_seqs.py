# SDE-Seg's source-domain SDE network for SYNTHIA (sec. 4.2), trained on
# SYNTHIA-SEQS with the recipe of sde_source_resnet101_gta5_sequences.py (the
# release's configs/sde_dec11.yml, experiments.py id 310). Then:
#   python tools/generate_depth_estimates.py \
#       configs/sdeseg/sde_source_resnet101_synthia_seqs.py \
#       work_dirs/sde_source_resnet101_synthia_seqs/iter_350000.pth \
#       --data-config configs/sdeseg/ssda_synthia_to_cityscapes_resnet101.py \
#       --branch source --format sigmoid_disparity16 --scale 1024 512 \
#       --out-dir data/synthia/sde_sigmoid_disparity16/sde_synthia_seqs
_base_ = ['./sde_source_resnet101_gta5_sequences.py']
train_dataloader = dict(dataset=dict(
    _delete_=True, type='SynthiaSeqsDataset', data_root='data/synthia_seqs',
    frame_ids=(-1, 1), pipeline={{_base_.train_pipeline}}))
