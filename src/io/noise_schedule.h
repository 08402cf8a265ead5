/* noise_schedule.h — the DDPM noise schedule of training: betas and ᾱ_t (alphas_cumprod) from a
 * model's scheduler_config.json, computed the way diffusers' DDPMScheduler computes them in torch
 * float32 on the CPU, step by step, so that ᾱ_t is bit-identical; and what the trainer derives from
 * them: the noising coefficients sqrt(ᾱ_t), sqrt(1 − ᾱ_t), the v-prediction target, SNR(t) and
 * min-SNR-γ loss weights (diffusers' training_utils.compute_snr and its training examples).
 *
 * How torch computes (PyTorch 2.x, CPU, float32 — see noise_schedule.c for the sources read):
 *   linspace(a, b, T): step = (f(b) − f(a)) / (T − 1) in float; element i < T/2 is f(a) + step·i,
 *                      the others f(b) − step·(T − 1 − i), each one float operation (see
 *                      vkti_linspace_mode: on Linux/macOS wheels the multiply and add are fused);
 *   "** 2" a float multiply; 1 − β a float subtraction;
 *   cumprod accumulates in double (CPU acc_type of float) and rounds each prefix product to float. */
#ifndef VKTI_TRAIN_NOISE_SCHEDULE_H
#define VKTI_TRAIN_NOISE_SCHEDULE_H

#include <stddef.h>

#include "base/diag.h"

#define VKTI_NOISE_MAX_TIMESTEPS 100000

typedef enum vkti_beta_schedule {
    VKTI_BETA_LINEAR = 0,          /* linspace(beta_start, beta_end) */
    VKTI_BETA_SCALED_LINEAR = 1,   /* linspace(sqrt(beta_start), sqrt(beta_end)) ** 2 (SD 1.x/2.x) */
    VKTI_BETA_SQUAREDCOS_CAP_V2 = 2,/* Glide cosine, computed in double, capped at 0.999 */
    VKTI_BETA_TRAINED = 3          /* the config's trained_betas list */
} vkti_beta_schedule;

typedef enum vkti_prediction {
    VKTI_PREDICT_EPSILON = 0,      /* the network predicts the noise: target = noise */
    VKTI_PREDICT_V = 1             /* v-prediction: target = sqrt(ᾱ)·noise − sqrt(1 − ᾱ)·latent */
} vkti_prediction;

/* How torch's float32 linspace rounds "start + step·i": one fused multiply-add (the x86 AVX2 /
 * AVX-512 and ARM kernels of Linux and macOS wheels, compiled with FMA contraction) or a rounded
 * product then a rounded sum (MSVC builds, /fp:strict). The two differ in the last bit of about
 * one beta in seven; tools/ref/noise_schedule_fixture.py reports which one the reference used. */
typedef enum vkti_linspace_mode {
    VKTI_LINSPACE_FUSED = 0,
    VKTI_LINSPACE_SEPARATE = 1
} vkti_linspace_mode;

typedef struct vkti_noise_schedule_config {
    int num_train_timesteps;       /* T, 2 .. VKTI_NOISE_MAX_TIMESTEPS */
    double beta_start, beta_end;
    vkti_beta_schedule beta_schedule;
    vkti_prediction prediction_type;
    const double *trained_betas;   /* [T] when beta_schedule is VKTI_BETA_TRAINED (borrowed) */
    vkti_linspace_mode linspace_mode;
} vkti_noise_schedule_config;

/* One allocation owned by the schedule; every array is [T], indexed by the timestep t. */
typedef struct vkti_noise_schedule {
    int num_train_timesteps;
    vkti_prediction prediction_type;
    float *betas;
    float *alphas_cumprod;                 /* ᾱ_t, bit-identical to DDPMScheduler.alphas_cumprod */
    float *sqrt_alphas_cumprod;            /* ᾱ_t ** 0.5 (float sqrt, as add_noise/get_velocity) */
    float *sqrt_one_minus_alphas_cumprod;  /* (1 − ᾱ_t) ** 0.5 */
    float *snr;                            /* (sqrt(ᾱ_t) / sqrt(1 − ᾱ_t)) ** 2, as compute_snr */
} vkti_noise_schedule;

/* DDPMScheduler's defaults (what a scheduler_config.json that names nothing gets): T 1000,
 * linear 0.0001 → 0.02, epsilon. */
vkti_noise_schedule_config vkti_noise_config_ddpm_default(void);
/* Stable Diffusion 1.x / 2.x (the LDM config's "linear_start 0.00085, linear_end 0.012",
 * i.e. scaled_linear): for single-file checkpoints, which carry no scheduler config. */
vkti_noise_schedule_config vkti_noise_config_sd(vkti_prediction prediction);

int vkti_noise_schedule_init(vkti_diag *d, vkti_noise_schedule *s, const vkti_noise_schedule_config *cfg);
/* Parses a scheduler_config.json (any diffusers scheduler class: keys that do not shape the
 * training schedule — steps_offset, clip_sample, set_alpha_to_one, timestep_spacing, ... — are
 * accepted and ignored, as DDPMScheduler.from_pretrained does) and builds the schedule.
 * source names the file in messages. */
int vkti_noise_schedule_from_json(vkti_diag *d, vkti_noise_schedule *s, const char *json, size_t len,
                                  const char *source, vkti_linspace_mode mode);
void vkti_noise_schedule_free(vkti_noise_schedule *s);

/* The coefficients of one timestep (t in [0, T)):
 *   noisy  = a·latent + b·noise                       (add_noise)
 *   target = noise                                     (epsilon)
 *   target = v_noise·noise + v_latent·latent          (v_prediction: v_noise = a, v_latent = −b) */
typedef struct vkti_noise_coefs {
    float a, b;
    float v_noise, v_latent;
} vkti_noise_coefs;
vkti_noise_coefs vkti_noise_coefs_at(const vkti_noise_schedule *s, int t);
/* The same under diffusers' fp16 mixed precision, where add_noise and get_velocity first cast
 * ᾱ to the latents' dtype: ᾱ, 1 − ᾱ and both square roots rounded to binary16 (returned as floats). */
vkti_noise_coefs vkti_noise_coefs_at_f16(const vkti_noise_schedule *s, int t);

/* The min-SNR-γ weight of the per-sample MSE at timestep t (Hang et al. 2023, as diffusers'
 * training examples apply it): min(SNR, γ) / SNR for epsilon, min(SNR, γ) / (SNR + 1) for
 * v_prediction, in float32 as torch computes it (γ rounded to float). gamma <= 0 means off: 1. */
float vkti_min_snr_weight(const vkti_noise_schedule *s, int t, double gamma);

#endif
