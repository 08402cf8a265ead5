/* pc_common.h — makes one push-constant declaration readable by both C and GLSL.
 * A family header writes
 *     VKTI_PUSH_BEGIN(vkti_pc_foo)
 *         VKTI_PC_U32 n;
 *         VKTI_PC_F32 alpha;
 *     VKTI_PUSH_END(vkti_pc_foo)
 * which is a C struct `vkti_pc_foo` for the dispatch code and a push_constant block named
 * `pc` for the shader. Only 32-bit scalars: then std430 and C agree on every offset. */
#ifndef VKTI_PC_COMMON_H
#define VKTI_PC_COMMON_H

#ifdef VULKAN /* GLSL compiled for Vulkan */
#define VKTI_PC_U32 uint
#define VKTI_PC_I32 int
#define VKTI_PC_F32 float
#define VKTI_PUSH_BEGIN(name) layout(push_constant) uniform name##_block {
#define VKTI_PUSH_END(name) } pc;
#define VKTI_PUSH_CHECK(name)
#else
#include <stdint.h>
#define VKTI_PC_U32 uint32_t
#define VKTI_PC_I32 int32_t
#define VKTI_PC_F32 float
#define VKTI_PUSH_BEGIN(name) typedef struct name {
#define VKTI_PUSH_END(name) } name;
#define VKTI_PUSH_CHECK(name) _Static_assert(sizeof(name) <= 128 && sizeof(name) % 4 == 0, #name " must fit 128 bytes of 32-bit fields");
#endif

#endif
