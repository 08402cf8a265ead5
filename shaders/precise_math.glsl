// precise_math.glsl — f32 exp, log, log1p, expm1, sin and cos accurate to a few ulp on every
// device. Vulkan lets the built-ins be far coarser (sin/cos: 2^-11 absolute on [-pi, pi];
// exp: 3 + 2|x| ulp; log: 2^-21 absolute near 1), which is too coarse for the timestep
// embedding (arguments up to ~1000), the Box-Muller transform and Adam's bias corrections.
// Each function reduces its argument exactly (Cody-Waite splits whose products are exact)
// and evaluates a polynomial on the reduced range.
#ifndef VKTI_PRECISE_MATH_GLSL
#define VKTI_PRECISE_MATH_GLSL

// ln 2 split so that e * PM_LN2_HI is exact for |e| < 512 (PM_LN2_HI has 15 significant bits)
const float PM_LN2_HI = 0.693145751953125;
const float PM_LN2_LO = 1.4286068203094172e-06;
const float PM_LOG2E = 1.4426950408889634;
// pi/2 split so that k * PM_PIO2_1 and k * PM_PIO2_2 are exact for |k| < 8192, i.e. the
// reduction of sin/cos is exact for |x| < 12867
const float PM_2_OVER_PI = 0.63661977236758134;
const float PM_PIO2_1 = 1.5703125;
const float PM_PIO2_2 = 4.837512969970703125e-4;
const float PM_PIO2_3 = 7.54978995489188216e-8;

bool pm_isfinite(float x)
{
    // a bit test: an optimizer may not fold it away as it may isinf/isnan under fast math
    return (floatBitsToUint(x) & 0x7f800000u) != 0x7f800000u;
}

float pm_inf()
{
    return uintBitsToFloat(0x7f800000u);
}

float pm_nan()
{
    return uintBitsToFloat(0x7fc00000u);
}

// exp(x): x = k ln2 + r, |r| <= ln2/2; exp(r) by its Taylor series to r^7 (truncation < 0.1 ulp)
float pm_exp(float x)
{
    if (!(x == x))
        return x;
    if (x > 88.72284)
        return pm_inf();
    if (x < -103.97208)
        return 0.0;
    float k = roundEven(x * PM_LOG2E);
    precise float r = (x - k * PM_LN2_HI) - k * PM_LN2_LO;
    float p = 1.0 + r * (1.0 + r * (1.0 / 2.0 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 +
              r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    int ki = int(k);
    // two scalings so that neither overflows nor underflows on the way to a representable result
    return ldexp(ldexp(p, ki / 2), ki - ki / 2);
}

// log(1 + f) for sqrt(1/2) - 1 <= f <= sqrt(2) - 1 (fdlibm's form): s = f / (2 + f) and
// log(1 + f) = f - hfsq + s (hfsq + R(s^2)), hfsq = f^2 / 2; R is the atanh series' tail.
float pm_log1p_small(float f)
{
    float s = f / (2.0 + f);
    float z = s * s;
    float R = z * (0.6666666666666735 + z * (0.3999999999940942 + z * (0.2857142874366239 +
              z * (0.2222219843214978 + z * (0.1818357216161805 + z * (0.1531383769920937 +
              z * 0.1479819860511659))))));
    float hfsq = 0.5 * f * f;
    return f - (hfsq - s * (hfsq + R));
}

// log(x): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log x = e ln2 + log(1 + (m - 1)); m - 1 is exact
float pm_log(float x)
{
    if (!(x > 0.0))
        return x == 0.0 ? -pm_inf() : pm_nan();
    if (!pm_isfinite(x))
        return x;
    int e;
    float m = frexp(x, e); // [0.5, 1)
    if (m < 0.70710678) {
        m *= 2.0;
        e -= 1;
    }
    float fe = float(e);
    return fe * PM_LN2_HI + (pm_log1p_small(m - 1.0) + fe * PM_LN2_LO);
}

// log(1 + x) without losing x's low bits when |x| is small
float pm_log1p(float x)
{
    if (x > -0.29289321 && x < 0.41421356)
        return pm_log1p_small(x);
    if (x == -1.0)
        return -pm_inf();
    float u = 1.0 + x;
    precise float c = (u - 1.0) - x; // the rounding error of 1 + x
    return pm_log(u) - c / u;
}

// exp(y) - 1 without cancellation: Taylor series to y^9 for |y| < 0.35 (truncation < 0.01 ulp)
float pm_expm1(float y)
{
    if (abs(y) < 0.35)
        return y * (1.0 + y * (1.0 / 2.0 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 +
               y * (1.0 / 720.0 + y * (1.0 / 5040.0 + y * (1.0 / 40320.0 + y * (1.0 / 362880.0)))))))));
    return pm_exp(y) - 1.0;
}

// sin and cos of |r| <= pi/4 (a little beyond is fine) by their Taylor series
void pm_sincos_poly(float r, out float s, out float c)
{
    float z = r * r;
    s = r + r * z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (1.0 / 362880.0))));
    c = 1.0 - 0.5 * z + z * z * (1.0 / 24.0 + z * (-1.0 / 720.0 + z * (1.0 / 40320.0 + z * (-1.0 / 3628800.0))));
}

// sin(q pi/2 + r) and cos(q pi/2 + r) from the polynomial values at r
void pm_quadrant(uint q, float ps, float pc, out float s, out float c)
{
    q &= 3u;
    s = q == 0u ? ps : q == 1u ? pc : q == 2u ? -ps : -pc;
    c = q == 0u ? pc : q == 1u ? -ps : q == 2u ? -pc : ps;
}

// sin x and cos x; accurate to a few ulp for |x| < 12867 (the reduction is exact there)
void pm_sincos(float x, out float s, out float c)
{
    float k = roundEven(x * PM_2_OVER_PI);
    precise float r = ((x - k * PM_PIO2_1) - k * PM_PIO2_2) - k * PM_PIO2_3;
    float ps, pc;
    pm_sincos_poly(r, ps, pc);
    pm_quadrant(uint(int(k)), ps, pc, s, c);
}

// sin and cos of 2 pi v / 2^24 for an integer v < 2^24: the reduction to a quadrant and a
// remainder in [-1/8, 1/8) turn is done on the integer, so it is exact.
void pm_sincos_turns24(uint v, out float s, out float c)
{
    uint w = v + 0x200000u;
    int rem = int(w & 0x3fffffu) - 0x200000;
    float r = float(rem) * 3.7450702829238413e-07; // 2 pi / 2^24
    float ps, pc;
    pm_sincos_poly(r, ps, pc);
    pm_quadrant(w >> 22, ps, pc, s, c);
}

#endif
