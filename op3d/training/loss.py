"""The EG3D / OP3D training objective: non-saturating logistic GAN loss with lazy R1 on both the image and
the raw neural rendering, blur fade, generator pose conditioning with swapping, style mixing and the
density regularizer."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from op3d.conditioning.posed import pose_condition
from op3d.networks.discriminator import resize_raw
from op3d.ops.upfirdn2d import upfirdn2d


@dataclass
class LossConfig:
    r1_gamma: float = 1.0
    style_mixing_prob: float = 0.0
    blur_init_sigma: float = 10.0
    blur_fade_kimg: float = 200.0  # already scaled by batch / 32 as the original train script does
    gpc_reg_prob: float | None = 0.5  # None = no generator pose conditioning (c fed as zeros)
    gpc_reg_fade_kimg: float = 1000.0
    neural_rendering_resolution_initial: int = 64
    neural_rendering_resolution_final: int | None = None
    neural_rendering_resolution_fade_kimg: float = 1000.0
    density_reg: float = 0.25
    density_reg_p_dist: float = 0.004
    density_reg_points: int = 1000
    # Pose-conditional generators: the Greg phase applies these instead of the density regularizer.
    eikonal_weight: float = 1e-3  # (|grad sdf| - 1)^2 (OP3D's weight; it squared each component instead)
    sdf_prior_weight: float = 1.0  # residual^2: keep the surface near the body mesh
    sdf_reg_points: int = 1000  # per body: half uniform in the box, half near the surface


def fade(cur_nimg: int, fade_kimg: float) -> float:
    """0 -> 1 linearly over fade_kimg thousand images (1 at once when fade_kimg <= 0)."""
    return min(cur_nimg / (fade_kimg * 1e3), 1.0) if fade_kimg > 0 else 1.0


def blur_sigma(cfg: LossConfig, cur_nimg: int) -> float:
    return max(1 - cur_nimg / (cfg.blur_fade_kimg * 1e3), 0) * cfg.blur_init_sigma if cfg.blur_fade_kimg > 0 else 0.0


def swapping_prob(cfg: LossConfig, cur_nimg: int) -> float | None:
    """Probability of conditioning G on another sample's camera: 1 -> gpc_reg_prob over gpc_reg_fade_kimg."""
    if cfg.gpc_reg_prob is None:
        return None
    a = fade(cur_nimg, cfg.gpc_reg_fade_kimg)
    return (1 - a) * 1 + a * cfg.gpc_reg_prob


def neural_rendering_resolution(cfg: LossConfig, cur_nimg: int) -> int:
    if cfg.neural_rendering_resolution_final is None:
        return cfg.neural_rendering_resolution_initial
    a = fade(cur_nimg, cfg.neural_rendering_resolution_fade_kimg)
    return int(round((1 - a) * cfg.neural_rendering_resolution_initial + a * cfg.neural_rendering_resolution_final))


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian of radius floor(3 sigma), zero padded, as the original blur fade."""
    size = int(math.floor(sigma * 3))
    if size <= 0:
        return image
    f = torch.arange(-size, size + 1, device=image.device, dtype=torch.float32).div(sigma).square().neg().exp2()
    return upfirdn2d(image, f / f.sum(), padding=size)


def conditioning_cameras(c: torch.Tensor, prob: float | None, draw: torch.Tensor | None) -> torch.Tensor:
    """The cameras fed to the mapping network: zeros without pose conditioning, else per sample the
    batch-rolled camera where draw [B, 1] (uniform) < prob, the sample's own camera otherwise."""
    if prob is None:
        return torch.zeros_like(c)
    return torch.where(draw < prob, torch.roll(c, 1, 0), c)


class GANLoss:
    """accumulate_gradients(phase, ...) computes one phase's loss and calls backward with the given gain.

    Phases: Gmain, Greg (density regularizer), Gboth, Dmain, Dreg (R1), Dboth. Randomness comes from
    `generator` so a run is reproducible and resumable.
    """

    def __init__(self, G, D, cfg: LossConfig, generator: torch.Generator | None = None, noise_mode: str = "random"):
        self.G, self.D, self.cfg = G, D, cfg
        self.generator = generator
        self.noise_mode = noise_mode  # of G's per-layer noise: "random", or "const" for deterministic runs

    def _rand(self, *shape, device) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator, device="cpu").to(device)

    def _randn_like(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape, generator=self.generator, device="cpu").to(x.device)

    def mapping(self, z: torch.Tensor, c_cond: torch.Tensor, update_emas: bool = False) -> torch.Tensor:
        ws = self.G.mapping(z, c_cond, update_emas=update_emas)
        if self.cfg.style_mixing_prob > 0 and ws.shape[1] > 1:
            cutoff = int(torch.randint(1, ws.shape[1], (), generator=self.generator))
            if float(self._rand(device="cpu")) >= self.cfg.style_mixing_prob:
                cutoff = ws.shape[1]
            if cutoff < ws.shape[1]:
                other = self.G.mapping(self._randn_like(z), c_cond, update_emas=False)
                ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
        return ws

    def run_G(self, z: torch.Tensor, c: torch.Tensor, cur_nimg: int, update_emas: bool = False,
              body=None) -> dict:
        prob = swapping_prob(self.cfg, cur_nimg)
        draw = self._rand(c.shape[0], 1, device=c.device) if prob is not None else None
        ws = self.mapping(z, conditioning_cameras(c, prob, draw), update_emas)
        nrr = neural_rendering_resolution(self.cfg, cur_nimg)
        extra = {} if body is None else {"body": body}
        return self.G.synthesis(ws, c, neural_rendering_resolution=nrr, noise_mode=self.noise_mode, **extra)

    def run_D(self, img: dict, c: torch.Tensor, cur_nimg: int, body=None) -> torch.Tensor:
        """D's label is the camera, or for pose-conditional training camera + betas + joint angles."""
        sigma = blur_sigma(self.cfg, cur_nimg)
        if sigma > 0:
            img = dict(img, image=gaussian_blur(img["image"], sigma))
        return self.D(img, c if body is None else pose_condition(c, body))

    def density_reg(self, z: torch.Tensor, c: torch.Tensor, cur_nimg: int) -> torch.Tensor:
        prob = swapping_prob(self.cfg, cur_nimg)
        draw = self._rand(1, 1, device=c.device).expand(c.shape[0], 1) if prob is not None else None  # one per batch
        ws = self.mapping(z, conditioning_cameras(c, prob, draw))
        n = self.cfg.density_reg_points
        initial = self._rand(ws.shape[0], n, 3, device=ws.device) * 2 - 1
        perturbed = initial + self._randn_like(initial) * self.cfg.density_reg_p_dist
        sigma = self.G.sample_density(torch.cat([initial, perturbed], dim=1), ws, noise_mode=self.noise_mode)["sigma"]
        return F.l1_loss(sigma[:, :n], sigma[:, n:]) * self.cfg.density_reg

    def sdf_reg(self, z: torch.Tensor, c: torch.Tensor, body, cur_nimg: int) -> dict[str, torch.Tensor]:
        """Eikonal and SDF-prior terms of a pose-conditional G at random points around the bodies: half uniform
        in the rendering box, half posed vertices + N(0, 3 cm). Needs second derivatives through the sampler."""
        prob = swapping_prob(self.cfg, cur_nimg)
        draw = self._rand(c.shape[0], 1, device=c.device) if prob is not None else None
        ws = self.mapping(z, conditioning_cameras(c, prob, draw))
        n = self.cfg.sdf_reg_points // 2
        half = self.G.render_options.box_warp / 2
        uniform = (self._rand(ws.shape[0], n, 3, device=ws.device) * 2 - 1) * half
        V = body.vertices.shape[1]
        pick = torch.randint(V, (ws.shape[0], n), generator=self.generator).to(ws.device)
        near = torch.gather(body.vertices.to(ws.dtype), 1, pick[..., None].expand(-1, -1, 3))
        near = near + self._randn_like(near) * 0.03
        points = torch.cat([uniform, near], dim=1).requires_grad_(True)
        out = self.G.sample_density(points, ws, body=body, noise_mode=self.noise_mode)
        grad, = torch.autograd.grad(out["sdf"].sum(), points, create_graph=True)
        return {"eikonal": (grad.norm(dim=-1) - 1).square().mean(), "sdf_prior": out["residual"].square().mean()}

    def accumulate_gradients(self, phase: str, real_img: torch.Tensor, real_c: torch.Tensor, gen_z: torch.Tensor,
                             gen_c: torch.Tensor, gain: float, cur_nimg: int, real_body=None,
                             gen_body=None) -> dict[str, float]:
        """real_img in [-1, 1] [B, 3, R, R]; real_c, gen_c [B, 25]; gen_z [B, z_dim]; for pose-conditional
        training the posed bodies of the real and generated samples (PosedBody). Returns logged scalars."""
        stats: dict[str, float] = {}
        conditional = gen_body is not None
        reg_weight = (self.cfg.eikonal_weight + self.cfg.sdf_prior_weight) if conditional else self.cfg.density_reg
        do_Gmain = phase in ("Gmain", "Gboth")
        do_Greg = phase in ("Greg", "Gboth") and reg_weight > 0
        do_Dmain = phase in ("Dmain", "Dboth")
        do_Dr1 = phase in ("Dreg", "Dboth") and self.cfg.r1_gamma > 0
        if do_Gmain:
            gen = self.run_G(gen_z, gen_c, cur_nimg, body=gen_body)
            logits = self.run_D(gen, gen_c, cur_nimg, body=gen_body)
            loss = F.softplus(-logits)
            loss.mean().mul(gain).backward()
            stats["Loss/G/loss"] = float(loss.mean().detach())
            stats["Loss/scores/fake"] = float(logits.mean().detach())
        if do_Greg and conditional:
            terms = self.sdf_reg(gen_z, gen_c, gen_body, cur_nimg)
            loss = terms["eikonal"] * self.cfg.eikonal_weight + terms["sdf_prior"] * self.cfg.sdf_prior_weight
            loss.mul(gain).backward()
            stats.update({f"Loss/G/{k}": float(v.detach()) for k, v in terms.items()})
        elif do_Greg:
            loss = self.density_reg(gen_z, gen_c, cur_nimg)
            loss.mul(gain).backward()
            stats["Loss/G/density_reg"] = float(loss.detach())
        if do_Dmain:
            with torch.no_grad():
                gen = self.run_G(gen_z, gen_c, cur_nimg, update_emas=True, body=gen_body)  # tracks w_avg
            logits = self.run_D(gen, gen_c, cur_nimg, body=gen_body)
            loss = F.softplus(logits)
            loss.mean().mul(gain).backward()
            stats["Loss/D/loss_fake"] = float(loss.mean().detach())
        if do_Dmain or do_Dr1:
            nrr = neural_rendering_resolution(self.cfg, cur_nimg)
            image = real_img.detach().requires_grad_(do_Dr1)
            raw = resize_raw(real_img, nrr).detach().requires_grad_(do_Dr1)
            logits = self.run_D({"image": image, "image_raw": raw}, real_c, cur_nimg, body=real_body)
            total = torch.zeros((), device=real_img.device)
            if do_Dmain:
                loss_real = F.softplus(-logits)
                total = total + loss_real.mean()
                stats["Loss/D/loss_real"] = float(loss_real.mean().detach())
                stats["Loss/scores/real"] = float(logits.mean().detach())
            if do_Dr1:
                g_img, g_raw = torch.autograd.grad(logits.sum(), [image, raw], create_graph=True, only_inputs=True)
                penalty = g_img.square().sum([1, 2, 3]) + g_raw.square().sum([1, 2, 3])
                total = total + (penalty * (self.cfg.r1_gamma / 2)).mean()
                stats["Loss/r1_penalty"] = float(penalty.mean().detach())
            total.mul(gain).backward()
        return stats
