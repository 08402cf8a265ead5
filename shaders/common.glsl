// common.glsl — storage types and indexing shared by every shader.
// STORAGE_F16 selects 16-bit storage; arithmetic is always 32-bit float.
#extension GL_EXT_shader_16bit_storage : require

#ifdef STORAGE_F16
#define STORE_T float16_t
#else
#define STORE_T float
#endif
#define TO_STORE(x) STORE_T(x)

// Linear invocation index over a grid made by vkti_cmd_grid_1d (x up to 65535, then y).
uint linear_id(uint local_size)
{
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * local_size + gl_LocalInvocationID.x;
}
