# SDE-Seg "Ours w/o data selection" (Table 7 DM+MTL, Table 10): transfer from SDE,
# multi-task learning with the SDE loss on the unlabelled sequences, mean teacher,
# DepthMix by the online SDE depth. With a selected split (tools/select_annotations.py)
# this is "Ours" (S+DM+MTL). Paper, 1/8 labels: 66.66 +- 1.05 (w/o selection);
# 68.01 +- 0.83 with selection (Table 7).
_base_ = ['./_ssl_resnet101_cityscapes.py']
