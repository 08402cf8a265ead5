// norm_common.glsl — what the group-norm and layer-norm shaders share: combining partial
// statistics (count, mean, M2 = sum of squared deviations) by Chan et al.'s parallel formula,
// which stays accurate when the mean is large against the spread (no sum of squares).
#include "activation_common.glsl"

// a and b are (count, mean, M2); so is the result.
vec3 chan_combine(vec3 a, vec3 b)
{
    float n = a.x + b.x;
    if (n == 0.0)
        return a;
    float d = b.y - a.y;
    float wb = b.x / n;
    return vec3(n, a.y + d * wb, a.z + b.z + d * d * a.x * wb);
}
