#!/usr/bin/env python3
"""sampler_reference.py — diffusers' own sampler runs, as the fixture of tests/unit/test_schedule.c
and tests/ops/test_sampler.c (tests/fixtures/sampler_reference.safetensors).

For each case below it builds the scheduler the way users do — the model's scheduler class from
its scheduler_config.json, then `Sampler.from_config(that.config, **overrides)` — and runs a whole
loop on the CPU in float32 with a fixed fake model in place of the UNet:
    model_output = 0.1 * model_input + (t / 1000.0) * E
where model_input is scheduler.scale_model_input(x, t) and E a fixed tensor. The ancestral noise
is fed, not drawn: DDIM gets variance_noise=noise[i], and Euler ancestral's randn_tensor is
replaced by one that returns noise[i]. Everything is recorded, so the C tests can check one step
from diffusers' own state as well as the whole run.

Run on a machine with torch and diffusers' source (the GPU machine; diffusers is imported from its
source tree, never installed):
    python3 tools/ref/sampler_reference.py --diffusers .ref/src \
        --out tests/fixtures/sampler_reference.safetensors
    python3 tools/ref/sampler_reference.py --diffusers .ref/src --side 64 \
        --out $OUT/sampler_reference_sd15.safetensors      # SD 1.5's 64 x 64 x 4 latent (~55 MB)
    VKTI_SAMPLER_FIXTURE=$OUT/sampler_reference_sd15.safetensors build/release/tests/vkti_unit_schedule
    VKTI_SAMPLER_FIXTURE=$OUT/sampler_reference_sd15.safetensors build/release/tests/vkti_test_ops -o sampler/diffusers
(--diffusers defaults to $VKTI_DIFFUSERS_SRC, then .ref/src, then ../shared/anchors/py.)

Output: a safetensors file (written here, no package needed), all float32, flat in torch's
[1, 4, side, side] order (the samplers are elementwise, so the C side reads them as flat arrays):
    noise0 [n], noise [20, n], E [n]                        shared inputs
    CASE.timesteps [S]   CASE.sigmas [S+1] (not DDIM)   CASE.init_noise_sigma [1]
    CASE.x [S+1, n]      x[0] = noise0 * init_noise_sigma; x[i+1] = step i's prev_sample
    CASE.model_in [S, n] CASE.model_out [S, n]
    CASE.x0 [S, n]       the predicted x0 of step i (DPM++: the converted model output it keeps)
and __metadata__: CASE.config (the scheduler_config.json the C side gets: the file's keys plus the
overrides), CASE.sampler (ddim | euler_a | dpmpp_2m), CASE.steps, CASE.eta, CASE.karras; versions.
"""
import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reflib  # noqa: E402

SD15 = {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
        "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
        "clip_sample": False}
SD2V = {"_class_name": "DDIMScheduler", "_diffusers_version": "0.8.0", "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False, "num_train_timesteps": 1000,
        "prediction_type": "v_prediction", "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
        "trained_betas": None}
DDIM_DEFAULTS = {"_class_name": "DDIMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
                 "beta_start": 0.00085, "num_train_timesteps": 1000}
EULER_A_V = {"_class_name": "EulerAncestralDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "num_train_timesteps": 1000, "prediction_type": "v_prediction"}

# name, sampler, model config, overrides (from_config keyword arguments), steps, eta
CASES = [
    ("ddim_sd15", "ddim", SD15, {}, 20, 0.0),                  # the full 20-step DDIM loop
    ("ddim_sd15_eta", "ddim", SD15, {}, 20, 0.5),
    ("ddim_clip_trailing", "ddim", DDIM_DEFAULTS, {"timestep_spacing": "trailing"}, 10, 0.0),
    ("ddim_sd2v", "ddim", SD2V, {}, 20, 0.0),
    ("euler_a_sd15", "euler_a", SD15, {}, 20, 0.0),
    ("euler_a_v", "euler_a", EULER_A_V, {}, 15, 0.0),
    ("dpmpp_2m_sd15", "dpmpp_2m", SD15, {}, 20, 0.0),
    ("dpmpp_2m_karras", "dpmpp_2m", SD15, {"use_karras_sigmas": True}, 20, 0.0),
    ("dpmpp_2m_sd2v_trailing", "dpmpp_2m", SD2V, {"timestep_spacing": "trailing"}, 12, 0.0),
    ("dpmpp_2m_sd15_5", "dpmpp_2m", SD15, {}, 5, 0.0),
]
MAX_STEPS = 20



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--diffusers', default=None, help='folder that contains the diffusers package')
    ap.add_argument('--side', type=int, default=8, help='latent side (8: the committed fixture; 64: SD 1.5 at 512)')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    reflib.use_diffusers(args.diffusers)
    import torch
    import diffusers
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler
    import diffusers.schedulers.scheduling_euler_ancestral_discrete as euler_mod

    torch.set_grad_enabled(False)
    classes = {"ddim": DDIMScheduler, "euler_a": EulerAncestralDiscreteScheduler,
               "dpmpp_2m": DPMSolverMultistepScheduler}
    shape = (1, 4, args.side, args.side)
    n = 4 * args.side * args.side
    g = torch.Generator().manual_seed(20260101)
    noise0 = torch.randn(shape, generator=g, dtype=torch.float32)
    noise = torch.randn((MAX_STEPS,) + shape, generator=g, dtype=torch.float32)
    E = torch.randn(shape, generator=g, dtype=torch.float32)
    tensors = {"noise0": ([n], noise0.flatten().tolist()), "noise": ([MAX_STEPS, n], noise.flatten().tolist()),
               "E": ([n], E.flatten().tolist())}
    meta = {"torch": torch.__version__, "diffusers": getattr(diffusers, '__version__', '?'),
            "platform": "%s %s" % (platform.system(), platform.machine()), "side": args.side,
            "model": "model_output = 0.1 * model_input + (t / 1000.0) * E"}
    cases = []
    for name, sampler, cfg, over, steps, eta in CASES:
        orig = getattr(diffusers, cfg["_class_name"]).from_config(cfg)
        sched = classes[sampler].from_config(orig.config, **over)
        dpm = sampler == "dpmpp_2m"
        if dpm:
            assert sched.config.algorithm_type == "dpmsolver++" and sched.config.solver_order == 2
            assert sched.config.lower_order_final and sched.config.final_sigmas_type == "zero"
        sched.set_timesteps(steps)
        ts = sched.timesteps
        assert len(ts) == steps, (name, len(ts))
        x = noise0 * sched.init_noise_sigma
        xs, ins, outs, x0s = [x.clone()], [], [], []
        step_i = [0]
        euler_mod.randn_tensor = lambda *a, **k: noise[step_i[0]].clone()
        for i, t in enumerate(ts):
            step_i[0] = i
            model_in = sched.scale_model_input(x, t)
            model_out = 0.1 * model_in + (t / 1000.0) * E
            kw = {}
            if sampler == "ddim":
                kw = {"eta": eta, "variance_noise": noise[i]} if eta > 0 else {"eta": eta}
            res = sched.step(model_out, t, x, **kw)
            if dpm:
                x0 = sched.model_outputs[-1]
            else:
                x0 = res.pred_original_sample
            x = res.prev_sample
            ins.append(model_in.flatten().tolist())
            outs.append(model_out.flatten().tolist())
            x0s.append(x0.flatten().tolist())
            xs.append(x.clone())
        tensors[name + ".timesteps"] = ([steps], [float(v) for v in ts.tolist()])
        if sampler != "ddim":
            tensors[name + ".sigmas"] = ([steps + 1], sched.sigmas.float().tolist())
        tensors[name + ".init_noise_sigma"] = ([1], [float(sched.init_noise_sigma)])
        tensors[name + ".x"] = ([steps + 1, n], [v for xx in xs for v in xx.flatten().tolist()])
        tensors[name + ".model_in"] = ([steps, n], [v for r in ins for v in r])
        tensors[name + ".model_out"] = ([steps, n], [v for r in outs for v in r])
        tensors[name + ".x0"] = ([steps, n], [v for r in x0s for v in r])
        c = dict(cfg)
        c.update(over)
        meta[name + ".config"] = json.dumps(c)
        meta[name + ".sampler"] = sampler
        meta[name + ".steps"] = steps
        meta[name + ".eta"] = eta
        meta[name + ".karras"] = int(bool(over.get("use_karras_sigmas", False)))
        cases.append(name)
        print('%-24s %-9s %2d steps, timesteps %s .. %s, init sigma %.6g' %
              (name, sampler, steps, ts[0].item(), ts[-1].item(), float(sched.init_noise_sigma)))
    meta["cases"] = ",".join(cases)
    reflib.write_f32_safetensors(args.out, tensors, meta)
    print('wrote', args.out)


if __name__ == '__main__':
    main()
