"""Importing original-format snapshots end to end: op3d.load and `op3d convert`."""
import copy
import json

import pytest
import torch
from click.testing import CliRunner
from helpers import lookat_labels
from legacy_pickles import EasyDict, dumps, records_from_module

import op3d
from op3d.cli import cli
from op3d.networks.discriminator import DualDiscriminator
from op3d.networks.generator import Generator

RENDERING = dict(image_resolution=128, disparity_space_sampling=False, clamp_mode="softplus",
                 superresolution_module="training.superresolution.SuperresolutionHybrid2X",
                 c_gen_conditioning_zero=False, gpc_reg_prob=0.5, c_scale=1.0, superresolution_noise_mode="none",
                 density_reg=0.25, density_reg_p_dist=0.004, reg_type="l1", decoder_lr_mul=1.0, sr_antialias=True,
                 depth_resolution=4, depth_resolution_importance=4, ray_start=2.25, ray_end=3.3, box_warp=1,
                 avg_camera_radius=2.7, avg_camera_pivot=[0, 0, 0.2])
# The original constructors' keyword arguments (as the fixtures' init_kwargs.json), tiny channel counts.
ORIGINAL_KWARGS = dict(z_dim=16, w_dim=16, c_dim=25, img_resolution=128, img_channels=3, sr_num_fp16_res=0,
                       rendering_kwargs=RENDERING, sr_kwargs=dict(channel_base=2048, channel_max=32,
                                                                  fused_modconv_default="inference_only"),
                       channel_base=256, channel_max=8, num_fp16_res=0, conv_clamp=None,
                       mapping_kwargs=dict(num_layers=2), fused_modconv_default="inference_only")


def make_snapshot(tmp_path, cls_name, **extra):
    kwargs = dict(ORIGINAL_KWARGS, **extra)
    torch.manual_seed(0)
    rep = "orthoplanes" if cls_name == "TriMultiPlaneGenerator" else "triplane"
    G = Generator(representation=rep, legacy_axes=True, **copy.deepcopy(kwargs)).eval()
    with torch.no_grad():
        for p in G.parameters():
            p.add_(0.1 * torch.randn_like(p))
    D = DualDiscriminator(25, 128, 3, channel_base=256, channel_max=8, mapping_kwargs=dict(num_layers=2))
    src = "raise SystemExit('never executed')\n"
    G_rec = records_from_module(G, src, init_kwargs=kwargs, class_name=cls_name,
                                rendering_kwargs=RENDERING, neural_rendering_resolution=32)
    D_rec = records_from_module(D, src, init_kwargs=dict(c_dim=25, img_resolution=128, img_channels=3,
                                                         channel_base=256, channel_max=8,
                                                         mapping_kwargs=EasyDict(num_layers=2)),
                                class_name="DualDiscriminator")
    path = tmp_path / "network-snapshot-000123.pkl"
    path.write_bytes(dumps({"G": G_rec, "G_ema": G_rec, "D": D_rec, "augment_pipe": None,
                            "training_set_kwargs": EasyDict(resolution=128)}))
    return path, G, D


@pytest.mark.parametrize("cls_name,extra", [("TriMultiPlaneGenerator", dict(per_dir_plane_number=4, fourier_L=6)),
                                            ("TriPlaneGenerator", {})])
def test_load_original_snapshot_reproduces_generator(tmp_path, cls_name, extra):
    path, G, D = make_snapshot(tmp_path, cls_name, **extra)
    H = op3d.load(path)
    assert H.legacy_axes and H.legacy_raw_alias and H.neural_rendering_resolution == 32
    assert H.representation == ("orthoplanes" if extra else "triplane")
    ref = G.state_dict()
    got = H.state_dict()
    assert set(got) == set(ref) and all(torch.equal(got[k], ref[k]) for k in ref)
    z, c = torch.randn(1, 16), lookat_labels([1.4])
    with torch.no_grad():
        a = G(z, c, noise_mode="const", deterministic=True, neural_rendering_resolution=32)
        b = H(z, c, noise_mode="const", deterministic=True)
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["image_depth"], b["image_depth"])
    D2 = op3d.load(path, which="D")
    assert all(torch.equal(D2.state_dict()[k], v) for k, v in D.state_dict().items())


def test_convert_cli_round_trip(tmp_path):
    path, G, _ = make_snapshot(tmp_path, "TriMultiPlaneGenerator", per_dir_plane_number=3, fourier_L=2)
    out = tmp_path / "converted"
    result = CliRunner().invoke(cli, ["convert", str(path), str(out)])
    assert result.exit_code == 0, result.output
    H = op3d.load(out)
    assert all(torch.equal(H.state_dict()[k], v) for k, v in G.state_dict().items())
    assert H.init_kwargs["per_dir_plane_number"] == 3 and H.legacy_axes
    # --which D: the snapshot's discriminator, recorded as such
    result = CliRunner().invoke(cli, ["convert", str(path), str(tmp_path / "D"), "--which", "D"])
    assert result.exit_code == 0, result.output
    D = op3d.load(tmp_path / "D")
    assert type(D).__name__ == "DualDiscriminator" and all(torch.equal(D.state_dict()[k], v)
                                                            for k, v in op3d.load(path, which="D").state_dict().items())
    assert json.loads((tmp_path / "D" / "config.json").read_text())["extra"]["which"] == "D"


def test_convert_cli_bad_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x80\x04not a pickle")
    from op3d.cli import main

    with pytest.raises(SystemExit) as info:
        main(["convert", str(bad), str(tmp_path / "out")])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and "not a readable snapshot" in err and "\n" not in err
    assert not (tmp_path / "out").exists()
