// activation_common.glsl — activation functions and their derivatives, fp32 arithmetic; used by
// activation.comp, activation_geglu.comp and the group norm shaders (fused SiLU).

// 1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|.
float sigmoid(float x)
{
    float e = exp(-abs(x));
    float r = 1.0 / (1.0 + e);
    return x >= 0.0 ? r : e * r;
}

float silu(float x) { return x * sigmoid(x); }

float silu_grad(float x)
{
    float s = sigmoid(x);
    return s * (1.0 + x * (1.0 - s));
}

// erfc(z) for z >= 0 with relative error below 1.1e-7 (before fp32 rounding): the Chebyshev
// fit of Numerical Recipes (Press et al., 2nd ed., section 6.2, "erfcc"),
//     erfc(z) = t * exp(-z^2 + P(t)),  t = 1 / (1 + z/2),  P a degree-9 polynomial.
// Relative (not absolute) accuracy in the tail is what makes gelu(x) accurate for x << 0.
float erfc_pos(float z)
{
    float t = 1.0 / (1.0 + 0.5 * z);
    float p = 0.17087277;
    p = fma(p, t, -0.82215223);
    p = fma(p, t, 1.48851587);
    p = fma(p, t, -1.13520398);
    p = fma(p, t, 0.27886807);
    p = fma(p, t, -0.18628806);
    p = fma(p, t, 0.09678418);
    p = fma(p, t, 0.37409196);
    p = fma(p, t, 1.00002368);
    p = fma(p, t, -1.26551223);
    return t * exp(p - z * z);
}

// The standard normal CDF, Phi(x) = erfc(-x / sqrt(2)) / 2, from the side where it is small.
float normal_cdf(float x)
{
    float h = 0.5 * erfc_pos(abs(x) * 0.70710678118654752);
    return x < 0.0 ? h : 1.0 - h;
}

// exact GELU: x * Phi(x)  (PyTorch's F.gelu with approximate="none")
float gelu(float x) { return x * normal_cdf(x); }

float gelu_grad(float x) { return normal_cdf(x) + x * 0.39894228040143268 * exp(-0.5 * x * x); }

// CLIP's quick_gelu: x * sigmoid(1.702 x)
float quick_gelu(float x) { return x * sigmoid(1.702 * x); }

float quick_gelu_grad(float x)
{
    float s = sigmoid(1.702 * x);
    return s + 1.702 * x * s * (1.0 - s);
}
