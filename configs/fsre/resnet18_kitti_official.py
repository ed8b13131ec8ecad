# FSRE on KITTI, ResNet-18, as the official code (hyBlue/FSRE-Depth) builds it rather
# than as the paper writes it. It exists so that checkpoints converted with
# tools/model_converters/fsre_to_mmdepthsem.py compute what they computed in the
# official code (docs/model_converters.md): its CMA scales the scores by
# 1/sqrt(H·C'), has no bias in the W projection, fuses [target, refined] and pads the
# fusion conv by reflection; its ResNets normalise [0, 1] images with
# (x - 0.45) / 0.225, i.e. mean 114.75 / std 57.375 on 0-255 images.
_base_ = ['./resnet18_kitti.py']
official_cma = dict(score_scale='total', project_bias=False,
                    fusion_order='target_first', fusion_padding='reflect')
data_preprocessor = dict(mean=[114.75, 114.75, 114.75], std=[57.375, 57.375, 57.375])
model = dict(
    data_preprocessor=data_preprocessor,
    cross_task_blocks={
        b: dict(type='BidirectionalCMA', channels=c, num_embeddings=4, **official_cma)
        for b, c in {4: 256, 3: 128, 2: 64}.items()
    })
