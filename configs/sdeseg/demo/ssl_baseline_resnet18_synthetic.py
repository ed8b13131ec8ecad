# SDE-Seg demo, labelled-only row: cross-entropy on the labelled crops (plus the SDE
# loss on the unlabelled sequences, as in the other rows); the unlabelled images
# give no segmentation signal.
_base_ = ['./_ssl_resnet18_synthetic.py']
model = dict(unlabelled_loss=None)
