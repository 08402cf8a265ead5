#!/usr/bin/env python3
"""pipeline_reference.py — diffusers' StableDiffusionPipeline beside `vkti generate`, on the same model,
prompt, seed and noise: the final latents and the pictures compared.

vkti's noise is Philox-4x32-10 (src/ops/rng.h, include/vkti/generate.h): image i's starting latent is
normal sample j of key (seed + i), counter 0, stream 0, in [h, w, 4] order; the ancestral noise of step
k uses counter k + 1. This script draws the same numbers (in double; the device draws them in float32
with a few-ulp log/sin/cos, so they agree to ~1e-6), hands them to the pipeline (latents=...: its
prepare_latents multiplies them by the scheduler's init_noise_sigma, as vkti does) and
feeds the ancestral noise to the scheduler in place of its randn_tensor. The scheduler is built as
users build it: Sampler.from_config(pipe.scheduler.config).

Run on the GPU machine (torch; diffusers from its source tree; transformers), after building vkti:
    B=build/release
    $B/make_tiny_sd --preset tiny --seed 1 --out /tmp/tiny          # or any model folder
    python3 tools/ref/pipeline_reference.py --diffusers .ref/src --vkti $B/vkti --model /tmp/tiny \
        --prompt "a photo of a cat" --negative "blurry" --sampler euler_a --steps 20 --cfg 7 --seed 1 \
        --precision fp32 --out $OUT/pipeline_tiny
Every sampler in one go: --sampler all. With --embedding FILE[:TOKEN] (repeatable) the pipeline loads
it with load_textual_inversion. Prints, per sampler, the largest and mean difference of the final
latents (relative to their RMS) and of the 8-bit pictures; writes OUT_<sampler>.png (diffusers'),
OUT_<sampler>_vkti.png and OUT.json. With --save-reference FILE it also writes diffusers' final
latents of each sampler run (float32, [batch, h, w, 4] as vkti keeps them; keys "<run>.latents",
runs ddim, ddim_eta, euler_a, dpmpp_2m, dpmpp_2m_karras with --sampler all) and the settings in
__metadata__: the fixture tests/unit/test_txt2img.c compares vkti's whole loop with, on the tiny
model (make_tiny_sd --preset tiny --seed 1 --tokenizer-from tests/data/tokenizer/tiny).
vkti runs with --precision (fp32 compares the networks and
samplers without half-precision rounding; fp16 is what users run); diffusers runs in float32.
"""
import argparse
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reflib  # noqa: E402

SAMPLERS = {"ddim": "DDIMScheduler", "euler_a": "EulerAncestralDiscreteScheduler", "dpmpp_2m": "DPMSolverMultistepScheduler"}


# ---- Philox-4x32-10 and Box-Muller, as shaders/rng.comp ------------------------------------------

def philox(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r:
            k0 = (k0 + 0x9E3779B9) & 0xffffffff
            k1 = (k1 + 0xBB67AE85) & 0xffffffff
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & 0xffffffff, p1 & 0xffffffff, ((p0 >> 32) ^ c3 ^ k1) & 0xffffffff, \
            p0 & 0xffffffff
    return c0, c1, c2, c3


def box_muller(a, b):
    u1 = ((a >> 8) + 1) / 16777216.0
    u2 = (b >> 8) / 16777216.0
    r = math.sqrt(-2.0 * math.log(u1))
    return r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)


def vkti_normal(seed, counter, n, stream=0):
    out = []
    for blk in range((n + 3) // 4):
        x = philox((blk, stream, counter & 0xffffffff, counter >> 32), (seed & 0xffffffff, seed >> 32))
        out.extend(box_muller(x[0], x[1]))
        out.extend(box_muller(x[2], x[3]))
    return out[:n]




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--diffusers', default=None)
    ap.add_argument('--vkti', required=True, help='the vkti program')
    ap.add_argument('--model', required=True)
    ap.add_argument('--prompt', default='a photo of a cat')
    ap.add_argument('--negative', default='')
    ap.add_argument('--embedding', action='append', default=[])
    ap.add_argument('--sampler', default='all', choices=['all'] + list(SAMPLERS))
    ap.add_argument('--karras', action='store_true', help='Karras sigmas for dpmpp_2m')
    ap.add_argument('--eta', type=float, default=0.0, help="DDIM's eta (ddim only)")
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--cfg', type=float, default=7.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--width', type=int, default=0)
    ap.add_argument('--height', type=int, default=0)
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'fp16'])
    ap.add_argument('--device', default=None, help='torch device (default cuda when there)')
    ap.add_argument('--out', required=True, help='prefix of the files written')
    ap.add_argument('--save-reference', default=None, help="safetensors of diffusers' final latents per run")
    args = ap.parse_args()
    reflib.use_diffusers(args.diffusers)
    import numpy as np
    import torch
    import diffusers
    from diffusers import StableDiffusionPipeline
    import diffusers.schedulers.scheduling_ddim as ddim_mod
    import diffusers.schedulers.scheduling_euler_ancestral_discrete as euler_mod
    from PIL import Image

    dev = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    pipe = StableDiffusionPipeline.from_pretrained(args.model, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False).to(dev)
    pipe.set_progress_bar_config(disable=True)
    for e in args.embedding:
        path, _, tok = e.rpartition(':') if ':' in os.path.basename(e) else (e, '', '')
        pipe.load_textual_inversion(path or e, token=tok or None)
    vae_f = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    W = args.width or pipe.unet.config.sample_size * vae_f
    H = args.height or pipe.unet.config.sample_size * vae_f
    h, w, C = H // vae_f, W // vae_f, pipe.unet.config.in_channels
    n = h * w * C
    base_config = pipe.scheduler.config
    results = {"model": args.model, "prompt": args.prompt, "negative": args.negative, "steps": args.steps,
               "cfg": args.cfg, "seed": args.seed, "size": [W, H], "vkti_precision": args.precision,
               "torch": torch.__version__, "device": str(dev)}
    runs = [(s, args.karras and s == 'dpmpp_2m', args.eta if s == 'ddim' else 0.0)
            for s in (list(SAMPLERS) if args.sampler == 'all' else [args.sampler])]
    if args.sampler == 'all':
        runs += [('ddim', False, 1.0 if args.eta == 0 else args.eta), ('dpmpp_2m', True, 0.0)]
        runs = [r for i, r in enumerate(runs) if r not in runs[:i]]
    saved = {}
    for s, karras, eta in runs:
        run = s + ('_karras' if karras else '') + ('_eta' if eta else '')
        over = {"use_karras_sigmas": True} if karras else {}
        sched = getattr(diffusers, SAMPLERS[s]).from_config(base_config, **over)
        pipe.scheduler = sched
        sched.set_timesteps(args.steps)
        init_sigma = float(sched.init_noise_sigma)

        def nhwc_to_nchw(vals):
            return torch.tensor(vals, dtype=torch.float32).reshape(h, w, C).permute(2, 0, 1)

        lat0 = torch.stack([nhwc_to_nchw(vkti_normal(args.seed + b, 0, n)) for b in range(args.batch)])
        calls = [0]

        def step_noise(shape, generator=None, device=None, dtype=None, **kw):
            calls[0] += 1
            t = torch.stack([nhwc_to_nchw(vkti_normal(args.seed + b, calls[0], n)) for b in range(shape[0])])
            return t.to(device=device or dev, dtype=dtype or torch.float32)

        euler_mod.randn_tensor = step_noise
        ddim_mod.randn_tensor = step_noise
        res = pipe(prompt=args.prompt, negative_prompt=args.negative or None, num_inference_steps=args.steps,
                   guidance_scale=args.cfg, height=H, width=W, num_images_per_prompt=args.batch,
                   latents=lat0.to(dev), output_type='latent', eta=eta)
        ref_lat = res.images.float()
        saved[run] = ref_lat.cpu().permute(0, 2, 3, 1).contiguous()
        with torch.no_grad():
            img = pipe.vae.decode(ref_lat / pipe.vae.config.scaling_factor).sample
        ref_px = pipe.image_processor.postprocess(img, output_type='np')
        ref_px = (ref_px * 255).round().astype('uint8')
        # vkti
        prefix = '%s_%s' % (args.out, run)
        cmd = [args.vkti, '--precision', args.precision, 'generate', '--model', args.model, '--prompt', args.prompt,
               '--sampler', s, '--steps', str(args.steps), '--cfg', str(args.cfg), '--seed', str(args.seed),
               '--batch', str(args.batch), '--width', str(W), '--height', str(H), '--out', prefix + '_vkti.png',
               '--save-latents', prefix + '_vkti.safetensors']
        if args.negative:
            cmd += ['--negative', args.negative]
        if karras:
            cmd += ['--karras']
        if eta:
            cmd += ['--eta', str(eta)]
        for e in args.embedding:
            cmd += ['--embedding', e]
        p = subprocess.run(cmd, capture_output=True, text=True)
        print(p.stdout.strip())
        if p.returncode:
            print(p.stderr)
            results[run] = {"error": p.stderr.strip()}
            continue
        tens, _ = reflib.read_f32_safetensors(prefix + '_vkti.safetensors')
        shape, vals = tens['latents']
        v_lat = torch.tensor(vals, dtype=torch.float32).reshape(shape).permute(0, 3, 1, 2)
        shape0, vals0 = tens['initial']
        v0 = torch.tensor(vals0, dtype=torch.float32).reshape(shape0).permute(0, 3, 1, 2)
        d0 = (v0 - lat0 * init_sigma).abs().max().item()  # vkti keeps them times init_noise_sigma
        rms = ref_lat.cpu().pow(2).mean().sqrt().item()
        dl = (v_lat - ref_lat.cpu()).abs()
        files = [prefix + '_vkti.png'] if args.batch == 1 else \
            ['%s_vkti-%d.png' % (prefix, i + 1) for i in range(args.batch)]
        px = np.stack([np.asarray(Image.open(f).convert('RGB')) for f in files])
        dp = np.abs(px.astype(np.int32) - ref_px.astype(np.int32))
        for i in range(args.batch):
            Image.fromarray(ref_px[i]).save('%s%s.png' % (prefix, '' if args.batch == 1 else '-%d' % (i + 1)))
        r = {"starting_latents_max_abs_diff": d0, "latents_rms": rms,
             "latents_max_abs_diff_rel_rms": dl.max().item() / rms, "latents_mean_abs_diff_rel_rms": dl.mean().item() / rms,
             "pixels_max_abs_diff": int(dp.max()), "pixels_mean_abs_diff": float(dp.mean()), "karras": karras}
        results[run] = r
        print('%-15s starting latents %.2g apart; final latents max %.3g, mean %.3g of their RMS %.3g; pixels max %d, '
              'mean %.2f levels' % (run, d0, r["latents_max_abs_diff_rel_rms"],
                                    r["latents_mean_abs_diff_rel_rms"], rms, r["pixels_max_abs_diff"],
                                    r["pixels_mean_abs_diff"]))
    with open(args.out + '.json', 'w') as f:
        json.dump(results, f, indent=1)
    if args.save_reference:
        meta = {"prompt": args.prompt, "negative": args.negative, "steps": str(args.steps), "cfg": repr(args.cfg),
                "seed": str(args.seed), "width": str(W), "height": str(H), "batch": str(args.batch),
                "eta": repr(args.eta if args.eta else 1.0), "diffusers": diffusers.__version__, "torch": torch.__version__,
                "made_by": "tools/ref/pipeline_reference.py --save-reference"}
        reflib.write_f32_safetensors(args.save_reference, {k + '.latents': (list(v.shape), v.flatten().tolist())
                                                            for k, v in saved.items()}, meta)
        print('wrote', args.save_reference)
    print('wrote', args.out + '.json')


if __name__ == '__main__':
    main()
