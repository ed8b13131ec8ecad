import pytest
import timm
import torch
import torch.nn.functional as F

from mmdepthsem.models.backbones import PoseResNet, widen_input_conv
from mmdepthsem.models.decode_heads import PoseDecoder, PoseNet
from mmdepthsem.models.utils import pose_vec_to_matrix
from mmdepthsem.registry import MODELS


@pytest.fixture(scope='module')
def pose_net():
    torch.manual_seed(0)
    return MODELS.build(dict(type='PoseNet')).eval()


def test_widen_input_conv_repeats_and_halves_the_rgb_filters():
    torch.manual_seed(0)
    rgb = torch.randn(8, 3, 7, 7)
    state = {'conv1.weight': rgb, 'bn1.weight': torch.ones(8)}
    widened = widen_input_conv(state, num_input_frames=2)
    w = widened['conv1.weight']
    assert w.shape == (8, 6, 7, 7)
    assert torch.equal(w[:, :3], rgb / 2) and torch.equal(w[:, 3:], rgb / 2)
    assert state['conv1.weight'] is rgb and torch.equal(rgb, state['conv1.weight'])
    assert widened['bn1.weight'] is state['bn1.weight']
    # two identical frames give the pretrained response of one frame
    frame = torch.randn(1, 3, 16, 16)
    assert torch.allclose(F.conv2d(torch.cat([frame, frame], 1), w),
                          F.conv2d(frame, rgb), rtol=1e-5, atol=1e-4)
    # three frames: repeated three times, divided by 3
    w3 = widen_input_conv(state, num_input_frames=3)['conv1.weight']
    assert torch.allclose(w3[:, 6:], rgb / 3)
    # already widened weights are kept; other shapes are an error
    assert widen_input_conv(widened)['conv1.weight'] is w
    with pytest.raises(ValueError, match='conv1.weight'):
        widen_input_conv({'conv1.weight': torch.randn(8, 4, 7, 7)})
    with pytest.raises(KeyError):
        widen_input_conv({'stem.weight': rgb})


def test_pose_resnet_loads_and_widens_a_local_rgb_checkpoint(tmp_path):
    torch.manual_seed(0)
    rgb_model = timm.create_model('resnet18', pretrained=False)
    state = rgb_model.state_dict()  # includes the classifier fc.*
    path = tmp_path / 'resnet18_rgb.pth'
    torch.save({'state_dict': state}, path)
    encoder = PoseResNet(checkpoint=str(path))
    encoder.init_weights()
    own = encoder.encoder.state_dict()
    assert torch.equal(own['conv1.weight'][:, 3:], state['conv1.weight'] / 2)
    assert torch.equal(own['layer3.1.conv2.weight'], state['layer3.1.conv2.weight'])
    assert encoder.out_channels == [64, 64, 128, 256, 512]
    assert encoder.strides == [2, 4, 8, 16, 32]
    # a checkpoint without the encoder's weights is an error naming the problem
    with pytest.raises(KeyError, match='lacks'):
        encoder.load_rgb_state_dict({'conv1.weight': state['conv1.weight']})
    with pytest.raises(ValueError, match='6'):
        encoder(torch.randn(1, 3, 32, 32))


def test_pose_net_shapes_and_output_scaling(pose_net):
    frames = torch.randn(2, 6, 64, 96)
    axis_angle, translation = pose_net(frames)
    assert axis_angle.shape == (2, 3) and translation.shape == (2, 3)
    decoder = pose_net.decoder
    with torch.no_grad():
        saved = decoder.conv_pose.weight.clone(), decoder.conv_pose.bias.clone()
        decoder.conv_pose.weight.zero_()
        decoder.conv_pose.bias.zero_()
        axis_angle, translation = pose_net(frames)
        assert torch.equal(axis_angle, torch.zeros(2, 3))
        assert torch.equal(translation, torch.zeros(2, 3))
        # a constant output map b: the spatial mean is b, times 0.01, split 3 + 3
        decoder.conv_pose.bias.copy_(torch.tensor([1., 2., 3., 4., 5., 6.]))
        axis_angle, translation = pose_net(frames)
        assert torch.allclose(axis_angle, torch.tensor([[.01, .02, .03]]).expand(2, 3))
        assert torch.allclose(translation, torch.tensor([[.04, .05, .06]]).expand(2, 3))
        decoder.conv_pose.weight.copy_(saved[0])
        decoder.conv_pose.bias.copy_(saved[1])


def test_pose_decoder_architecture_and_mean():
    decoder = PoseDecoder(in_channels=16, channels=8)
    assert decoder.squeeze.kernel_size == (1, 1) and decoder.squeeze.out_channels == 8
    assert decoder.conv1.kernel_size == (3, 3) and decoder.conv2.kernel_size == (3, 3)
    assert decoder.conv_pose.out_channels == 6
    feat = torch.randn(2, 16, 3, 5)
    axis_angle, translation = decoder([feat])
    x = decoder.relu(decoder.squeeze(feat))
    x = decoder.relu(decoder.conv2(decoder.relu(decoder.conv1(x))))
    expected = 0.01 * decoder.conv_pose(x).mean(dim=(2, 3))
    assert torch.allclose(torch.cat([axis_angle, translation], 1), expected)


def test_target_to_source_orders_frames_and_inverts_the_past(pose_net):
    torch.manual_seed(1)
    target, source = torch.randn(1, 3, 64, 64), torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        T_prev = pose_net.target_to_source(target, source, frame_id=-1)
        T_next = pose_net.target_to_source(target, source, frame_id=1)
        aa, tr = pose_net(torch.cat([source, target], 1))
        assert torch.allclose(T_prev, pose_vec_to_matrix(aa, tr, invert=True))
        assert torch.allclose(T_prev @ pose_vec_to_matrix(aa, tr), torch.eye(4)[None],
                              atol=1e-6)
        aa, tr = pose_net(torch.cat([target, source], 1))
        assert torch.allclose(T_next, pose_vec_to_matrix(aa, tr))


def test_gradients_flow_into_decoder_and_encoder():
    torch.manual_seed(0)
    net = PoseNet()
    axis_angle, translation = net(torch.randn(2, 6, 64, 64))
    T = pose_vec_to_matrix(axis_angle, translation)
    (T[:, :3] * torch.randn(2, 3, 4)).sum().backward()
    for p in (net.decoder.conv_pose.weight, net.decoder.squeeze.weight,
              net.encoder.encoder.conv1.weight):
        assert p.grad is not None
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
