"""A user plug-in registered from outside the package, pulled in by custom_imports."""
import sys
import textwrap

import torch
from mmengine.config import Config

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

from .conftest import DEMO_CONFIG

PLUGIN = '''
import torch
from mmengine.model import BaseModule
from mmdepthsem.registry import MODELS


@MODELS.register_module()
class SwapFeaturesNeck(BaseModule):
    """Receives the decoder maps, returns (depth features, semantic features)."""

    calls = 0

    def forward(self, feats):
        SwapFeaturesNeck.calls += 1
        return tuple(f * 2 for f in feats), feats
'''


def test_custom_imports_plugin_is_built_and_used(tmp_path, monkeypatch):
    package = tmp_path / 'my_plugins'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'swap_neck.py').write_text(PLUGIN)
    (tmp_path / 'my_config.py').write_text(textwrap.dedent(f'''
        _base_ = [{str(DEMO_CONFIG)!r}]
        custom_imports = dict(imports=['my_plugins.swap_neck'],
                              allow_failed_imports=False)
        model = dict(task_neck=dict(type='SwapFeaturesNeck'))
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    register_all_modules()
    cfg = Config.fromfile(str(tmp_path / 'my_config.py'))  # runs custom_imports
    model = MODELS.build(cfg.model).eval()
    plugin_cls = sys.modules['my_plugins.swap_neck'].SwapFeaturesNeck
    assert type(model.task_neck) is plugin_cls
    with torch.no_grad():
        depth, logits = model(torch.zeros(1, 3, 64, 64), mode='tensor')
    assert plugin_cls.calls == 1
    assert depth.shape == (1, 1, 16, 16) and logits.shape[1] == 40
