"""Config handling the tools share."""
import copy
import math
import os.path as osp
import re
from collections import OrderedDict
from typing import Optional, Tuple, Union

from mmengine.config import Config, ConfigDict
from mmengine.runner.checkpoint import load_state_dict
from torch import nn

from .checkpoint import load_checkpoint_weights_only
from .set_env import register_all_modules


def load_tool_config(config: str,
                     cfg_options: Optional[dict] = None,
                     work_dir: Optional[str] = None,
                     launcher: str = 'none') -> Config:
    """Read ``config``, apply ``--cfg-options`` and settle ``work_dir``.

    ``work_dir`` defaults to the config's own, else ``./work_dirs/<config name>``, as
    in mmseg's tools.
    """
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg


def model_cfg_without_downloads(model_cfg: dict) -> ConfigDict:
    """A copy of ``model_cfg`` that loads no pretrained weights when built.

    For tools that only need the architecture (FLOP counting, benchmarks): the
    backbone's ``pretrained`` becomes False and a pose encoder's ``checkpoint``
    None, where the config has them.
    """
    model_cfg = ConfigDict(copy.deepcopy(model_cfg))
    if 'pretrained' in model_cfg.get('backbone', {}):
        model_cfg.backbone.pretrained = False
    encoder = model_cfg.get('pose_net', {}).get('encoder')
    if encoder is not None and 'checkpoint' in encoder:
        encoder.checkpoint = None
    return model_cfg


def dataset_pipeline(dataset_cfg: Optional[dict]) -> list:
    """The pipeline of ``dataset_cfg``, or of the first wrapped dataset that has one
    (e.g. inside a ``RepeatDataset``); empty when none has."""
    while dataset_cfg is not None and 'pipeline' not in dataset_cfg \
            and 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return list((dataset_cfg or {}).get('pipeline', []) or [])


def load_weights(model: nn.Module, checkpoint: Union[str, dict],
                 strict: bool = True) -> dict:
    """Load a checkpoint's weights into ``model``.

    A path is read with :func:`load_checkpoint_weights_only` (``weights_only=True``
    and the project's allow-list); ``checkpoint['state_dict']`` (or the dict itself)
    is loaded with a DDP ``module.`` prefix removed.

    Returns:
        The checkpoint dict (with its ``meta``).
    """
    if isinstance(checkpoint, str):
        checkpoint = load_checkpoint_weights_only(checkpoint, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise TypeError(f'a checkpoint must hold a dict of weights, got '
                        f'{type(checkpoint).__name__}')
    state = checkpoint.get('state_dict', checkpoint)
    state = OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in state.items())
    load_state_dict(model, state, strict=strict)
    return checkpoint


def build_model_with_weights(model_cfg: dict, checkpoint: Optional[str] = None,
                             device: str = 'cpu', strict: bool = True) -> nn.Module:
    """The config's model without weight downloads, with ``checkpoint``'s weights
    when given (:func:`load_weights`), in eval mode on ``device``."""
    from mmdepthsem.registry import MODELS
    model = MODELS.build(model_cfg_without_downloads(model_cfg))
    if checkpoint:
        load_weights(model, checkpoint, strict=strict)
    return model.to(device).eval()


def test_input_shape(cfg: Config) -> Optional[Tuple[int, int]]:
    """``(H, W)`` the model sees at test time, padded to the data preprocessor's
    ``size_divisor``.

    Taken from the test (else val) pipeline's ``Resize`` scale, else that dataset's
    ``image_size`` (both mmcv's ``(W, H)``), else the training ``RandomCrop`` size
    (``(H, W)``); None when the config gives none of them.
    """
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset = loader.get('dataset') or {}
    shape = None
    for transform in dataset_pipeline(dataset):
        if transform.get('type') == 'Resize' and transform.get('scale'):
            width, height = transform['scale']
            shape = (int(height), int(width))
            break
    if shape is None and dataset.get('image_size'):
        width, height = dataset['image_size']
        shape = (int(height), int(width))
    if shape is None:
        train = (cfg.get('train_dataloader') or {}).get('dataset')
        for transform in dataset_pipeline(train):
            if transform.get('type') == 'RandomCrop' and transform.get('crop_size'):
                shape = tuple(int(s) for s in transform['crop_size'])
                break
    if shape is None:
        return None
    divisor = (cfg.model.get('data_preprocessor') or {}).get('size_divisor')
    if divisor:
        shape = tuple(math.ceil(s / divisor) * divisor for s in shape)
    return shape
