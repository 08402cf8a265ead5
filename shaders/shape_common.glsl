// shape_common.glsl — row-parallel indexing shared by the shape shaders: a workgroup is
// VKTI_SHAPE_LANES channel lanes x VKTI_SHAPE_ROWS rows (pixels or tokens); a lane walks the
// channels of its row in steps of VKTI_SHAPE_LANES, so neighbouring lanes touch neighbouring
// addresses. Groups form a grid made by vkti_cmd_grid_1d(rows, VKTI_SHAPE_ROWS).
#ifndef VKTI_SHAPE_COMMON_GLSL
#define VKTI_SHAPE_COMMON_GLSL

layout(local_size_x = VKTI_SHAPE_LANES, local_size_y = VKTI_SHAPE_ROWS) in;

uint shape_row()
{
    return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * VKTI_SHAPE_ROWS + gl_LocalInvocationID.y;
}

uint shape_lane()
{
    return gl_LocalInvocationID.x;
}

#endif
