# The multi-task demo (ResNet-18, U-Net decoder, depth + 40-class semantic heads on the
# embedded synthetic NYU data) with the depth head's SILog loss replaced by the BerHu
# loss of this project. Run from the repository root:
#   python tools/train.py projects/berhu_loss/configs/berhu_resnet18_synthetic_nyu.py
_base_ = ['../../../configs/multitask/resnet18_synthetic_nyu.py']
custom_imports = dict(imports=['projects.berhu_loss.berhu_loss'],
                      allow_failed_imports=False)
model = dict(
    depth_head=dict(
        loss_decode=dict(
            _delete_=True, type='BerHuLoss', threshold_ratio=0.2, loss_weight=1.0)))
