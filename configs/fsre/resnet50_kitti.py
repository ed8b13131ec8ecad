# FSRE with a ResNet-50 depth encoder (the pose net stays ResNet-18); everything else
# as resnet18_kitti.py.
_base_ = ['./resnet18_kitti.py']
encoder_channels = (64, 256, 512, 1024, 2048)
model = dict(
    backbone=dict(model_name='resnet50'),
    depth_decoder=dict(in_channels=encoder_channels),
    sem_decoder=dict(in_channels=encoder_channels))
