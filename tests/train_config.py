"""The tiny deterministic training configuration the training tests share."""
from op3d.training.loop import TrainConfig
from op3d.training.loss import LossConfig


def tiny_train_config(data, outdir, **overrides) -> TrainConfig:
    loss = LossConfig(r1_gamma=1.0, blur_fade_kimg=0.1, gpc_reg_prob=None, neural_rendering_resolution_initial=16,
                      density_reg=0.0)
    cfg = dict(outdir=str(outdir), data=str(data), cfg="synthetic", size="tiny", plane_number=3, fourier_L=2,
               batch=4, G_reg_interval=None, D_reg_interval=2, mbstd_group=1, kimg=1, tick=0.004, snap=1,
               workers=0, deterministic=True, loss=loss, seed=5)
    cfg.update(overrides)
    return TrainConfig(**cfg)
