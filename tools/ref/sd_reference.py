#!/usr/bin/env python3
"""sd_reference.py — reference tensors for vkti's network fidelity tests, from transformers'
CLIPTextModel and diffusers' UNet2DConditionModel / AutoencoderKL loaded from the same files vkti
loads. Runs on the GPU machine (torch, transformers, safetensors; diffusers from its source folder).

For each network it draws seeded inputs, runs the forward pass (and, for the text encoder and the
UNet, the backward pass that textual inversion needs), and saves inputs, outputs and gradients as
one safetensors file per network in --out:

  text_encoder.safetensors: input_ids [B,77] (int32), hidden [B,77,D] (last_hidden_state),
      d_hidden [B,77,D] (random upstream gradient), d_embeds [B,77,D] (gradient of
      sum(d_hidden * hidden) with respect to the token embeddings fed in)
  unet.safetensors: sample [B,h,w,4] NHWC, timesteps [B] (float32), cond [B,77,Dc], out [B,h,w,4] NHWC,
      d_out [B,h,w,4] NHWC, d_cond [B,77,Dc] (gradient of sum(d_out * out) w.r.t. cond)
  vae.safetensors: image [B,H,W,3] NHWC in [-1,1], mean [B,h,w,C] NHWC, logvar [B,h,w,C],
      latent [B,h,w,C] (input to decode), decoded [B,H,W,3] NHWC
  ti_step.safetensors: one textual-inversion step as diffusers' examples/textual_inversion does it:
      input_ids [B,77] int32 (the placeholder is id V, the vocabulary size), init_row [1,D],
      latent [B,h,w,4] NHWC, noise [B,h,w,4] NHWC, timesteps [B], loss [1], grad_row [1,D] (the
      placeholder row's gradient), new_row [1,D] (after one AdamW step: lr 5e-4, betas 0.9/0.999,
      eps 1e-8, weight decay 1e-2), plus prediction_type in the metadata

All tensors are float32 (ids int32), NHWC where images or latents are involved, computed in float32
(--dtype fp32) or float16 (--dtype fp16) weights on the GPU. usage:
  python3 tools/ref/sd_reference.py --diffusers .ref/src --model DIR --out DIR [--which te,unet,vae,step]
"""
import argparse
import os
import sys


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--diffusers", required=True, help="folder that contains the diffusers package (src/)")
    p.add_argument("--model", required=True, help="a diffusers-layout model folder")
    p.add_argument("--out", required=True)
    p.add_argument("--which", default="te,unet,vae,step")
    p.add_argument("--dtype", default="fp32", choices=["fp32", "fp16"])
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--height", type=int, default=0, help="image height (0: the VAE config's sample_size)")
    p.add_argument("--width", type=int, default=0)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--device", default="cuda")
    return p.parse_args()


def main():
    a = parse()
    sys.path.insert(0, os.path.abspath(a.diffusers))
    import torch
    from safetensors.torch import save_file

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device(a.device if torch.cuda.is_available() else "cpu")
    dt = torch.float32 if a.dtype == "fp32" else torch.float16
    g = torch.Generator(device="cpu").manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    which = set(a.which.split(","))

    def nhwc(x):
        return x.permute(0, 2, 3, 1).contiguous()

    def f32(x):
        return x.detach().float().cpu().contiguous()

    if "te" in which:
        from transformers import CLIPTextModel
        te = CLIPTextModel.from_pretrained(os.path.join(a.model, "text_encoder"), torch_dtype=dt).to(dev).eval()
        cfg = te.config
        ids = torch.randint(0, cfg.vocab_size, (a.batch, 77), generator=g)
        ids[:, 0] = cfg.bos_token_id
        ids[:, 40:] = cfg.eos_token_id  # a prompt that ends early, padded with eos as SD 1.x does
        # d(sum(d_hidden * hidden)) / d(token embeddings): the embedding layer's output, kept by a hook
        te.requires_grad_(False)
        tm = getattr(te, "text_model", te)  # transformers >= 5.6 has no text_model wrapper
        tm.embeddings.token_embedding.weight.requires_grad_(True)
        kept = {}

        def keep(module, inputs, output):
            output.retain_grad()
            kept["emb"] = output

        hook = tm.embeddings.token_embedding.register_forward_hook(keep)
        hidden = te(input_ids=ids.to(dev)).last_hidden_state
        hook.remove()
        d_hidden = torch.randn(hidden.shape, generator=g).to(dev, dt)
        (hidden.float() * d_hidden.float()).sum().backward()
        emb = kept["emb"]
        save_file({"input_ids": ids.to(torch.int32).contiguous(), "hidden": f32(hidden), "d_hidden": f32(d_hidden),
                   "d_embeds": f32(emb.grad)}, os.path.join(a.out, "text_encoder.safetensors"))
        print("text_encoder: hidden", tuple(hidden.shape), "rms", hidden.float().pow(2).mean().sqrt().item())

    if "unet" in which:
        from diffusers import UNet2DConditionModel
        unet = UNet2DConditionModel.from_pretrained(os.path.join(a.model, "unet"), torch_dtype=dt).to(dev).eval()
        c = unet.config
        h = (a.height // 8) if a.height else c.sample_size
        w = (a.width // 8) if a.width else c.sample_size
        sample = torch.randn((a.batch, c.in_channels, h, w), generator=g).to(dev, dt)
        t = torch.randint(0, 1000, (a.batch,), generator=g).float()
        cond = torch.randn((a.batch, 77, c.cross_attention_dim), generator=g).to(dev, dt).requires_grad_(True)
        out = unet(sample, t.to(dev), encoder_hidden_states=cond).sample
        d_out = torch.randn(out.shape, generator=g).to(dev, dt)
        (out.float() * d_out.float()).sum().backward()
        save_file({"sample": f32(nhwc(sample)), "timesteps": t.contiguous(), "cond": f32(cond), "out": f32(nhwc(out)),
                   "d_out": f32(nhwc(d_out)), "d_cond": f32(cond.grad)}, os.path.join(a.out, "unet.safetensors"))
        print("unet: out", tuple(out.shape), "d_cond rms", cond.grad.float().pow(2).mean().sqrt().item())

    if "vae" in which:
        from diffusers import AutoencoderKL
        vae = AutoencoderKL.from_pretrained(os.path.join(a.model, "vae"), torch_dtype=dt).to(dev).eval()
        c = vae.config
        H = a.height or c.sample_size
        W = a.width or c.sample_size
        image = (torch.rand((a.batch, c.in_channels, H, W), generator=g) * 2 - 1).to(dev, dt)
        with torch.no_grad():
            dist = vae.encode(image).latent_dist
            latent = torch.randn(dist.mean.shape, generator=g).to(dev, dt)
            decoded = vae.decode(latent).sample
        save_file({"image": f32(nhwc(image)), "mean": f32(nhwc(dist.mean)), "logvar": f32(nhwc(dist.logvar)),
                   "latent": f32(nhwc(latent)), "decoded": f32(nhwc(decoded))}, os.path.join(a.out, "vae.safetensors"))
        print("vae: mean", tuple(dist.mean.shape), "decoded", tuple(decoded.shape))

    if "step" in which:
        run_ti_step(a, dev, dt, g, a.out)


def run_ti_step(a, dev, dt, g, out):
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    from transformers import CLIPTextModel
    from diffusers import DDPMScheduler, UNet2DConditionModel

    te = CLIPTextModel.from_pretrained(os.path.join(a.model, "text_encoder"), torch_dtype=torch.float32).to(dev)
    unet = UNet2DConditionModel.from_pretrained(os.path.join(a.model, "unet"), torch_dtype=dt).to(dev)
    sched = DDPMScheduler.from_pretrained(os.path.join(a.model, "scheduler"))
    V = te.config.vocab_size
    te.resize_token_embeddings(V + 1)
    emb = te.get_input_embeddings()
    init_from = int(torch.randint(1, V - 2, (1,), generator=g))
    with torch.no_grad():
        emb.weight[V] = emb.weight[init_from].clone()
    init_row = emb.weight[V:V + 1].detach().float().cpu().clone()
    # as the diffusers script: only the token embedding learns
    unet.requires_grad_(False)
    tm = getattr(te, "text_model", te)  # transformers >= 5.6 has no text_model wrapper
    tm.encoder.requires_grad_(False)
    tm.final_layer_norm.requires_grad_(False)
    tm.embeddings.position_embedding.requires_grad_(False)
    B, c = a.batch, unet.config
    ids = torch.randint(1, V - 2, (B, 77), generator=g)
    ids[:, 0] = te.config.bos_token_id
    ids[:, 5] = V
    ids[:, 9:] = te.config.eos_token_id
    latent = torch.randn((B, c.in_channels, c.sample_size, c.sample_size), generator=g)
    noise = torch.randn(latent.shape, generator=g)
    t = torch.randint(0, sched.config.num_train_timesteps, (B,), generator=g)
    noisy = sched.add_noise(latent, noise, t)
    target = noise if sched.config.prediction_type == "epsilon" else sched.get_velocity(latent, noise, t)
    cond = te(ids.to(dev))[0].to(dt)
    pred = unet(noisy.to(dev, dt), t.to(dev), cond).sample
    loss = F.mse_loss(pred.float(), target.to(dev).float(), reduction="mean")
    loss.backward()
    grad_row = emb.weight.grad[V:V + 1].detach().float().cpu().clone()
    opt = torch.optim.AdamW([emb.weight], lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
    opt.step()
    new_row = emb.weight[V:V + 1].detach().float().cpu().clone()

    def nhwc(x):
        return x.permute(0, 2, 3, 1).contiguous().float()

    save_file({"input_ids": ids.to(torch.int32).contiguous(), "init_row": init_row, "latent": nhwc(latent),
               "noise": nhwc(noise), "timesteps": t.float().contiguous(), "loss": loss.detach().float().cpu().reshape(1),
               "grad_row": grad_row, "new_row": new_row}, os.path.join(out, "ti_step.safetensors"),
              metadata={"prediction_type": sched.config.prediction_type, "lr": "5e-4", "weight_decay": "1e-2"})
    print("ti_step: loss", loss.item(), "grad norm", grad_row.norm().item())


if __name__ == "__main__":
    main()
