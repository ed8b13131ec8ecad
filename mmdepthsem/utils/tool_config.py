"""Loading a config the way tools/train.py and tools/test.py share."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

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
