"""The 2015-12-05 Inception-v3 feature detector used by FID, in plain PyTorch (torchvision is not needed).

Layout and parameter names follow torchvision's Inception-v3 with the FID-specific blocks of the TF graph
(average pools that exclude padding, a max pool in the last block), so the PyTorch port of the TF weights,
`pt_inception-2015-12-05-6726825d.pth`, loads directly. Input uint8 images are resized to 299x299 (bilinear)
and scaled to [-1, 1]; the output is the 2048-d pool3 feature.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from op3d.io.checkpoint import load_tensors

ENV_VAR = "OP3D_INCEPTION"
SOURCE = ("pt_inception-2015-12-05-6726825d.pth, the PyTorch port of TF's inception-2015-12-05 published with "
          "pytorch-fid (github.com/mseitzer/pytorch-fid, release 'fid_weights')")


class BasicConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)  # the TF graph excludes padding


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)), b3,
                          self.branch_pool(_avg_pool(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for i in range(1, 6):
            d = getattr(self, f"branch7x7dbl_{i}")(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool  # the last block of the TF graph max-pools its pool branch
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pool = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pool)], 1)


class InceptionFeatures(nn.Module):
    """uint8 images [B, 3, H, W] -> pool3 features [B, 2048]; `probabilities` gives the 1008-way classifier's
    softmax without its bias (StyleGAN's Inception Score convention), when the file holds the classifier."""

    def __init__(self):
        super().__init__()
        self.fc_weight: torch.Tensor | None = None  # [1008, 2048] from the file's fc.weight, for probabilities
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b, self.Mixed_5c, self.Mixed_5d = InceptionA(192, 32), InceptionA(256, 64), InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b, self.Mixed_6c = InceptionC(768, 128), InceptionC(768, 160)
        self.Mixed_6d, self.Mixed_6e = InceptionC(768, 160), InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b, self.Mixed_7c = InceptionE(1280, max_pool=False), InceptionE(2048, max_pool=True)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images.float() / 255, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=2)))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean(dim=(2, 3))

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images [B, 3, H, W] -> class probabilities [B, 1008] (softmax of the bias-free logits)."""
        if self.fc_weight is None:
            raise ValueError("this Inception file holds no classifier (fc.weight); the Inception Score needs it")
        return torch.softmax(self(images) @ self.fc_weight.to(images.device).T, dim=1)


class TorchScriptDetector(nn.Module):
    """NVIDIA's TorchScript detector (stylegan2-ada-pytorch's inception-2015-12-05.pt), run as its own program
    with NVIDIA's calling convention: module(uint8 images [B, 3, H, W], return_features=True) -> [B, 2048]."""

    def __init__(self, module: torch.jit.ScriptModule):
        super().__init__()
        self.module = module

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.module(images, return_features=True)

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities without the output bias, NVIDIA's calling convention for the Inception Score."""
        return self.module(images, no_output_bias=True)


def detector_file(path: str | os.PathLike | None, env_var: str, needed_by: str, flag: str, name: str,
                  source: str) -> Path:
    """The local detector file: `path`, else the environment variable env_var; FileNotFoundError saying what is
    needed and where it comes from when neither names an existing file (nothing is ever downloaded)."""
    path = path or os.environ.get(env_var)
    if not path:
        raise FileNotFoundError(f"{needed_by} {source}; download it once and pass {flag} PATH or set {env_var}=PATH")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {name} not found; it should be {source}")
    return path


def read_torchscript(path: Path) -> torch.jit.ScriptModule:
    """A TorchScript detector file (NVIDIA's Inception or VGG16) on the CPU; ValueError if unreadable."""
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as e:
        raise ValueError(f"{path}: not a readable TorchScript detector ({str(e).splitlines()[0][:100]})") from None


def load_detector(path: str | os.PathLike | None = None, device="cpu") -> nn.Module:
    """The detector from a local file (path, or the OP3D_INCEPTION environment variable): the .pth state dict
    (this pure-PyTorch network) or NVIDIA's TorchScript .pt (run as is)."""
    path = detector_file(path, ENV_VAR, "FID/KID need the Inception detector", "--detector", "Inception detector",
                         SOURCE)
    if path.suffix == ".pkl":
        raise ValueError(f"{path}: NVIDIA's pickled inception-2015-12-05.pkl is not supported; use {SOURCE} or "
                         "stylegan2-ada-pytorch's TorchScript inception-2015-12-05.pt")
    if path.suffix == ".pt":
        return TorchScriptDetector(read_torchscript(path)).eval().requires_grad_(False).to(device)
    raw = load_tensors(path, "an Inception state dict", ValueError)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a state dict")
    model = InceptionFeatures()
    expected = model.state_dict()
    state = {k: v for k, v in raw.items() if k in expected}  # the file also holds the classifier (fc.*)
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"{path}: not the FID Inception weights ({len(missing)} missing tensors, e.g. {missing[0]})")
    bad = [k for k, v in state.items() if v.shape != expected[k].shape]
    if bad:
        raise ValueError(f"{path}: tensor {bad[0]} has shape {tuple(state[bad[0]].shape)}, expected "
                         f"{tuple(expected[bad[0]].shape)}")
    model.load_state_dict(state, strict=False)
    classifier = raw.get("fc.weight")
    if isinstance(classifier, torch.Tensor) and classifier.shape == (1008, 2048):
        model.fc_weight = classifier.float()
    return model.eval().requires_grad_(False).to(device)
