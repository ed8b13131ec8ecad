"""The parameter / FLOP counting tool: its totals agree with the built model and its
per-module table sums to them (structure only, no timing)."""
import math

from mmengine.config import Config

from mmdepthsem.utils import register_all_modules

from ..conftest import REPO, load_tool

PICO = REPO / 'configs' / 'dss' / 'maxvit_pico_synthetic_nyu.py'
FSRE = REPO / 'configs' / 'fsre' / 'resnet18_kitti.py'


def test_counts_match_the_model_and_the_table_sums_to_the_totals():
    register_all_modules()
    tool = load_tool('tools/analysis_tools/get_flops.py')
    cfg = Config.fromfile(PICO)
    # MaxViT's window / grid is img_size / 32: build it for the small input
    cfg.merge_from_dict({'model.backbone.img_size': (64, 96)})
    model = tool.build_model(cfg)
    result = tool.complexity(model, (64, 96))
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert result['flops'] > 0 and math.isfinite(result['flops'])
    assert sum(params for _, params, _ in result['modules']) == result['params']
    assert sum(flops for _, _, flops in result['modules']) == result['flops']
    names = [name for name, _, _ in result['modules']]
    assert {'backbone', 'decode_neck', 'task_neck', 'depth_head', 'sem_head'} <= \
        set(names)
    assert not result['not_run']
    # MaxViT and LG-CAT attend with SDPA, which this tool counts itself
    assert 0 < result['sdpa_flops'] < result['flops']
    assert 'aten::scaled_dot_product_attention' not in result['unsupported']
    report = tool.format_report(str(PICO), (64, 96), result)
    assert 'Params' in report and 'FLOPs' in report and 'Not counted' in report

    without = tool.complexity(model, (64, 96), count_sdpa=False)
    assert without['flops'] == result['flops'] - result['sdpa_flops']
    assert without['unsupported']['aten::scaled_dot_product_attention'] > 0


def test_sdpa_handle_counts_both_matmuls():
    tool = load_tool('tools/analysis_tools/get_flops.py')

    class Value:  # a traced value with a complete shape
        def __init__(self, *shape):
            self.shape = list(shape)

        def isCompleteTensor(self):
            return True

        def type(self):
            return self

        def sizes(self):
            return self.shape

    q, k, v = Value(2, 4, 49, 32), Value(2, 4, 60, 32), Value(2, 4, 60, 16)
    assert tool.sdpa_flop_jit([q, k, v], []) == 2 * 4 * 49 * 60 * (32 + 16)


def test_default_shape_from_the_config():
    tool = load_tool('tools/analysis_tools/get_flops.py')
    # the training crop, already a multiple of the size divisor 32
    assert tool.default_shape(Config.fromfile(PICO)) == (128, 160)
    # the test pipeline's Resize scale (W, H)
    assert tool.default_shape(Config.fromfile(FSRE)) == (192, 640)
