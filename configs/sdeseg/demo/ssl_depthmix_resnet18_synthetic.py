# SDE-Seg demo, DepthMix row: mean-teacher pseudo-labels on DepthMix-ed images
# (each unlabelled crop mixed with a labelled one by the online SDE depth), with
# the SDE loss on the unlabelled sequences.
_base_ = ['./_ssl_resnet18_synthetic.py']
model = dict(unlabelled_loss='mix')
