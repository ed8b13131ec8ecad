import importlib.metadata

import pytest

import mmdepthsem


def test_incompatible_stack_names_what_to_install(monkeypatch):
    real_version = importlib.metadata.version

    def fake_version(dist):
        return {'mmcv': '2.2.0', 'mmsegmentation': '1.1.0'}.get(dist) or \
            real_version(dist)

    monkeypatch.setattr(importlib.metadata, 'version', fake_version)
    with pytest.raises(ImportError) as err:
        mmdepthsem._check_stack()
    message = str(err.value)
    assert 'mmcv 2.2.0 is installed' in message
    assert 'MMCV_WITH_OPS=1 pip install --no-build-isolation mmcv==2.1.0' in message
    assert 'pip install mmsegmentation==1.2.2' in message
    assert 'torch' not in message.split('mmcv 2.2.0')[0]  # torch fits: not listed


def test_missing_package_is_reported(monkeypatch):
    real_version = importlib.metadata.version

    def fake_version(dist):
        if dist == 'mmengine':
            raise importlib.metadata.PackageNotFoundError(dist)
        return real_version(dist)

    monkeypatch.setattr(importlib.metadata, 'version', fake_version)
    with pytest.raises(ImportError, match='mmengine is not installed'):
        mmdepthsem._check_stack()


def test_installed_stack_passes():
    assert mmdepthsem._check_stack() is None  # raises ImportError otherwise
