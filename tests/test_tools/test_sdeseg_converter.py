"""SDE-Seg checkpoints: why there is no converter (docs/model_converters.md, SDE-Seg).

No official file is downloaded. The official depth decoder state dict (``depth.pth``
of the released SDE models ``mono_cityscapes_1024x512_r101dil_aspp_dec{5,6}_*``) is
written down here from the official layer definitions:

- ``DepthDecoder`` fills an ``OrderedDict`` ``convs`` per block ``i = 4 .. 0`` with
  ``('upconv', i, 0)``, then (``i > 0``) ``('skip_proj', i)`` (an ``nn.Identity``, no
  tensors, but a position), then ``('upconv', i, 1)``; then ``('dispconv', s)``, and
  saves ``nn.ModuleList(list(convs.values()))``: positions 0 .. 17;
- with ``intermediate_aspp`` ``('upconv', 4, 0)`` is an ``ASPP`` (``convs.0`` 1×1,
  ``convs.1-3`` torchvision ``ASPPConv``, ``convs.4`` torchvision ``ASPPPooling``,
  ``project`` 1×1 fusion + BN), all convs without bias;
- its ``ConvBlock`` stores ``block.0.conv.{weight,bias}`` (``block.1`` is BN only
  with ``batch_norm``, off for dec5/dec6), ``Conv3x3`` stores ``conv.{weight,bias}``;
- dec5/dec6: ``num_ch_dec = 64, 128, 128, 256, 256``, ResNet-101 with a dilated
  ``layer4`` (``num_ch_enc = 64, 256, 512, 1024, 2048``, layers 3 and 4 both at
  stride 16), so ``('upconv', 4, 1)`` sees ``256 + 1024`` channels.

The test maps every official tensor that has a counterpart in ``ASPPUNetDecoder``
built with the official widths (config values only) and checks that exactly the
documented differences remain. When the package gains the missing options this test
fails, which is the cue to write the converter.
"""
import torch

from mmdepthsem.registry import MODELS
from mmdepthsem.utils import register_all_modules

torch.set_num_threads(1)

NUM_CH_ENC = (64, 256, 512, 1024, 2048)
NUM_CH_DEC = (64, 128, 128, 256, 256)  # dec5 / dec6, blocks i = 0 .. 4
ASPP_RATES = (6, 12, 18)
SCALES = (0, 1, 2, 3)
_BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def _bn(prefix: str, ch: int) -> dict:
    return {f'{prefix}.{n}': (() if n == 'num_batches_tracked' else (ch, ))
            for n in _BN}


def official_positions() -> dict:
    """``convs`` key -> position in the saved ``decoder`` ModuleList."""
    order = []
    for i in range(4, -1, -1):
        order.append(('upconv', i, 0))
        if i > 0:
            order.append(('skip_proj', i))
        order.append(('upconv', i, 1))
    order += [('dispconv', s) for s in SCALES]
    return {name: pos for pos, name in enumerate(order)}


def official_depth_shapes() -> dict:
    """Key -> shape of the official dec5/dec6 ``depth.pth``."""
    pos = official_positions()
    enc, dec = NUM_CH_ENC, NUM_CH_DEC
    shapes = {}
    aspp = f'decoder.{pos[("upconv", 4, 0)]}'
    shapes[f'{aspp}.convs.0.0.weight'] = (dec[4], enc[4], 1, 1)
    shapes.update(_bn(f'{aspp}.convs.0.1', dec[4]))
    for r in range(1, len(ASPP_RATES) + 1):
        shapes[f'{aspp}.convs.{r}.0.weight'] = (dec[4], enc[4], 3, 3)
        shapes.update(_bn(f'{aspp}.convs.{r}.1', dec[4]))
    pool = len(ASPP_RATES) + 1
    shapes[f'{aspp}.convs.{pool}.1.weight'] = (dec[4], enc[4], 1, 1)
    shapes.update(_bn(f'{aspp}.convs.{pool}.2', dec[4]))
    shapes[f'{aspp}.project.0.weight'] = (dec[4], (pool + 1) * dec[4], 1, 1)
    shapes.update(_bn(f'{aspp}.project.1', dec[4]))
    for i in range(4, -1, -1):
        if i < 4:  # upconv_i_0 is a ConvBlock except for the ASPP at i = 4
            cin = dec[i + 1]
            p = pos[('upconv', i, 0)]
            shapes[f'decoder.{p}.block.0.conv.weight'] = (dec[i], cin, 3, 3)
            shapes[f'decoder.{p}.block.0.conv.bias'] = (dec[i], )
        cin = dec[i] + (enc[i - 1] if i > 0 else 0)
        p = pos[('upconv', i, 1)]
        shapes[f'decoder.{p}.block.0.conv.weight'] = (dec[i], cin, 3, 3)
        shapes[f'decoder.{p}.block.0.conv.bias'] = (dec[i], )
    for s in SCALES:
        p = pos[('dispconv', s)]
        shapes[f'decoder.{p}.conv.weight'] = (1, dec[s], 3, 3)
        shapes[f'decoder.{p}.conv.bias'] = (1, )
    return shapes


def closest_mapping() -> dict:
    """Official key -> ours, for every official tensor with a named counterpart."""
    pos = official_positions()
    aspp = f'decoder.{pos[("upconv", 4, 0)]}'
    ours = 'blocks.block4.conv_in'
    table = {}

    def conv_bn(src_conv, src_bn, dst):
        table[f'{src_conv}.weight'] = f'{dst}.conv.weight'
        for n in _BN:
            table[f'{src_bn}.{n}'] = f'{dst}.bn.{n}'

    conv_bn(f'{aspp}.convs.0.0', f'{aspp}.convs.0.1', f'{ours}.branches.0')
    for r in range(1, len(ASPP_RATES) + 1):
        conv_bn(f'{aspp}.convs.{r}.0', f'{aspp}.convs.{r}.1', f'{ours}.branches.{r}')
    pool = len(ASPP_RATES) + 1
    conv_bn(f'{aspp}.convs.{pool}.1', f'{aspp}.convs.{pool}.2', f'{ours}.image_pool.1')
    conv_bn(f'{aspp}.project.0', f'{aspp}.project.1', f'{ours}.fuse')
    for i in range(3, -1, -1):
        for j, part in ((0, 'conv_in'), (1, 'conv_out')):
            for n in ('weight', 'bias'):
                table[f'decoder.{pos[("upconv", i, j)]}.block.0.conv.{n}'] = (
                    f'blocks.block{i}.{part}.conv.{n}')
    for s in SCALES:
        for n in ('weight', 'bias'):
            table[f'decoder.{pos[("dispconv", s)]}.conv.{n}'] = f'heads.scale{s}.{n}'
    return table


def our_decoder():
    register_all_modules()
    return MODELS.build(dict(
        type='ASPPUNetDecoder', in_channels=NUM_CH_ENC, channels=NUM_CH_DEC,
        aspp_dilations=ASPP_RATES, scales=SCALES))


def test_official_positions_skip_identity_slots():
    pos = official_positions()
    assert pos[('upconv', 4, 0)] == 0 and pos[('upconv', 4, 1)] == 2
    assert pos[('upconv', 0, 0)] == 12 and pos[('upconv', 0, 1)] == 13
    assert [pos[('dispconv', s)] for s in SCALES] == [14, 15, 16, 17]


def test_documented_differences_are_exactly_what_is_left():
    official = official_depth_shapes()
    table = closest_mapping()
    ours = {k: tuple(v.shape) for k, v in our_decoder().state_dict().items()}

    assert set(table) <= set(official)
    assert len(set(table.values())) == len(table)  # one-to-one where it maps
    unmapped = sorted(set(official) - set(table))
    mismatched = sorted(k for k in table if official[k] != ours[table[k]])
    unfilled = sorted(set(ours) - set(table.values()))

    # Block 4's second conv (after concatenating the stride-16 layer3 feature) has
    # no counterpart: our ASPP block ends after the ASPP.
    assert unmapped == ['decoder.2.block.0.conv.bias', 'decoder.2.block.0.conv.weight']
    assert official['decoder.2.block.0.conv.weight'] == (256, 256 + 1024, 3, 3)
    # The ASPP fusion is a 1×1 conv officially and a 3×3 conv here.
    assert mismatched == ['decoder.0.project.0.weight']
    assert official['decoder.0.project.0.weight'] == (256, 1280, 1, 1)
    assert ours['blocks.block4.conv_in.fuse.conv.weight'] == (256, 1280, 3, 3)
    assert unfilled == []


def test_renamed_layer_is_caught():
    official = official_depth_shapes()
    table = closest_mapping()
    table['decoder.5.block.0.conv.weight'] = 'blocks.block3.conv_mid.conv.weight'
    ours = our_decoder().state_dict()
    assert [k for k, v in table.items() if v not in ours] == [
        'decoder.5.block.0.conv.weight']
    assert 'decoder.5.block.0.conv.weight' in official
