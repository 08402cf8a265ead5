#!/usr/bin/env python3
"""check_sd_layouts.py — the PyTorch / diffusers side of vkti's model-layout tests, for the GPU machine
(it has torch, diffusers, transformers and safetensors; no network needed).

  --check DIR...   for each model DIR written by tools/make_tiny_sd (the diffusers folder DIR and the
                   single file DIR.safetensors): loads the folder with diffusers / transformers
                   (UNet2DConditionModel, AutoencoderKL, CLIPTextModel, the scheduler) and reports
                   missing or unexpected keys; converts the single file's LDM state dict with
                   diffusers' own single_file_utils converters (convert_ldm_unet_checkpoint,
                   convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint /
                   convert_open_clip_checkpoint) and checks every converted tensor equals the
                   folder's (so vkti's LDM names are diffusers' LDM names); runs each network once
                   and prints the output's mean and std (activations should stay O(1)); loads
                   DIR.ckpt, when there, with torch.load(weights_only=True) and compares it with the
                   single file. Exits 1 on any difference.
  --tables FILE    writes the parameter names and shapes of SD 1.5's and SD 2.1's UNet, text
                   encoder and VAE, as diffusers and transformers build them from the released
                   configs (on the meta device: no weights), as JSON. Commit it as
                   tests/data/models/sd_tables.json: tests/unit/test_sd_config.c then compares
                   vkti's tables with it name by name.

usage: python3 tools/ref/check_sd_layouts.py [--check DIR ...] [--tables FILE]
example (from the repo root, after building):
  B=build/release; for p in tiny tiny-sd2; do $B/make_tiny_sd --preset $p --seed 1 --out /tmp/m-$p --ckpt /tmp/m-$p.ckpt; done
  $B/make_tiny_sd --preset sd15 --seed 1 --out /tmp/m-sd15 --single /tmp/m-sd15.safetensors
  python3 tools/ref/check_sd_layouts.py --check /tmp/m-tiny /tmp/m-tiny-sd2 /tmp/m-sd15 --tables /tmp/sd_tables.json
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file

import diffusers
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders import single_file_utils as sfu
import transformers
from transformers import CLIPTextConfig, CLIPTextModel


def unwrap(name):
    """CLIPTextModel's names with or without the text_model. wrapper (transformers >= 5.6 drops it)."""
    return name[len("text_model."):] if name.startswith("text_model.") else name


def compare(what, got, want, extra_ok=()):
    """got, want: name -> tensor. Returns the number of problems."""
    bad = 0
    g = {unwrap(k): v for k, v in got.items()}
    w = {unwrap(k): v for k, v in want.items()}
    for k in sorted(set(w) - set(g)):
        print("FAIL %s: the converted single file lacks %s" % (what, k))
        bad += 1
    for k in sorted(set(g) - set(w)):
        if not any(k.startswith(p) for p in extra_ok):
            print("FAIL %s: the converted single file has an unexpected %s" % (what, k))
            bad += 1
    for k in sorted(set(g) & set(w)):
        a, b = g[k], w[k]
        # the same values in the same shape; the dtype may differ when one side was upcast on
        # loading (an fp16 file read into a float32 model): fp16 -> fp32 is exact, so compare there
        if a.shape != b.shape or not torch.equal(a.float(), b.float()):
            print("FAIL %s: %s differs (%s %s vs %s %s)" % (what, k, a.dtype, tuple(a.shape), b.dtype, tuple(b.shape)))
            bad += 1
    print("%s %s: %d tensors compared" % ("ok  " if not bad else "FAIL", what, len(set(g) & set(w))))
    return bad


def load(cls, path, **kw):
    model, info = cls.from_pretrained(path, output_loading_info=True, **kw)
    bad = 0
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(key):
            print("FAIL %s: %s %s" % (path, key, info[key][:10]))
            bad += 1
    return model.eval(), bad


def stats(t):
    t = t.detach().float()
    return "mean %+.3f std %.3f" % (t.mean().item(), t.std().item())


def check(dir_):
    bad = 0
    unet, b = load(UNet2DConditionModel, os.path.join(dir_, "unet"))
    bad += b
    vae, b = load(AutoencoderKL, os.path.join(dir_, "vae"))
    bad += b
    text, b = load(CLIPTextModel, os.path.join(dir_, "text_encoder"))
    bad += b
    sched = diffusers.DDPMScheduler.from_pretrained(os.path.join(dir_, "scheduler"))
    print("%s: unet %d, text encoder %d, vae %d parameters; prediction %s" % (
        dir_, sum(p.numel() for p in unet.parameters()), sum(p.numel() for p in text.parameters()),
        sum(p.numel() for p in vae.parameters()), sched.config.prediction_type))

    single = dir_.rstrip("/") + ".safetensors"
    if os.path.exists(single):
        ckpt = load_file(single)
        conv = sfu.convert_ldm_unet_checkpoint(ckpt, dict(unet.config))
        bad += compare(single + " unet", conv, unet.state_dict())
        conv = sfu.convert_ldm_vae_checkpoint(ckpt, dict(vae.config))
        bad += compare(single + " vae", conv, vae.state_dict())
        if sfu.is_open_clip_model(ckpt):
            conv = sfu.convert_open_clip_checkpoint(text, ckpt, prefix="cond_stage_model.model.")
            # the checkpoint's last OpenCLIP layer is unused by SD 2.x (diffusers drops it by name
            # only for the released 24-layer models)
            extra = ("encoder.layers.%d." % text.config.num_hidden_layers, "text_projection")
        else:
            conv = sfu.convert_ldm_clip_checkpoint(ckpt)
            extra = ("embeddings.position_ids",)
        want = {k: v for k, v in text.state_dict().items() if not k.endswith("position_ids")}
        bad += compare(single + " text_encoder", conv, want, extra_ok=extra)
    else:
        print("(no %s: single file not checked)" % single)
    ckpt_path = dir_.rstrip("/") + ".ckpt"
    if os.path.exists(ckpt_path) and os.path.exists(single):
        # vkti's torch.save writer: torch.load's safe mode reads it, the tensors are the single file's
        obj = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        print("  %s: global_step %s" % (ckpt_path, obj.get("global_step")))
        bad += compare(ckpt_path, obj["state_dict"], load_file(single))

    # one forward pass each: outputs O(1)?
    with torch.no_grad():
        torch.manual_seed(0)
        n = text.config.max_position_embeddings
        ids = torch.randint(0, text.config.vocab_size, (1, n))
        hidden = text(ids).last_hidden_state
        side = unet.config.sample_size or 8
        lat = torch.randn(1, unet.config.in_channels, side, side)
        eps = unet(lat, torch.tensor([500]), encoder_hidden_states=hidden).sample
        img_side = min(vae.config.sample_size, 256)
        img = torch.rand(1, 3, img_side, img_side) * 2 - 1
        z = vae.encode(img).latent_dist.mean
        rec = vae.decode(z).sample
        print("  text encoder output %s; unet output %s; vae latent %s, decoded %s" % (
            stats(hidden), stats(eps), stats(z), stats(rec)))
    return bad


def tables(path):
    """Parameter names and shapes of the released models, built from their configs without weights."""
    sd15_unet = dict(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
    sd21_unet = dict(sample_size=96, cross_attention_dim=1024, attention_head_dim=[5, 10, 20, 20],
                     use_linear_projection=True, upcast_attention=True)
    vae_cfg = dict(block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
                   up_block_types=["UpDecoderBlock2D"] * 4, layers_per_block=2, latent_channels=4, sample_size=512)
    clip15 = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                  num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu")
    clip21 = dict(vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
                  num_attention_heads=16, max_position_embeddings=77, hidden_act="gelu")
    out = {"versions": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                        "transformers": transformers.__version__}}
    for name, u, c in (("sd15", sd15_unet, clip15), ("sd21", sd21_unet, clip21)):
        with torch.device("meta"):
            nets = {"unet": UNet2DConditionModel(**u), "text_encoder": CLIPTextModel(CLIPTextConfig(**c)),
                    "vae": AutoencoderKL(**vae_cfg)}
        out[name] = {k: {("text_model." + unwrap(p) if k == "text_encoder" else p): list(t.shape)
                         for p, t in m.named_parameters()} for k, m in nets.items()}
        print("%s: %s" % (name, ", ".join("%s %d tensors" % (k, len(v)) for k, v in out[name].items())))
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    print("wrote %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", nargs="*", default=[])
    ap.add_argument("--tables")
    a = ap.parse_args()
    bad = 0
    for d in a.check:
        bad += check(d)
    if a.tables:
        tables(a.tables)
    print("%d problem%s" % (bad, "" if bad == 1 else "s"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
