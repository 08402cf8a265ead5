/* half.h — IEEE binary16 and bfloat16 <-> float conversion on the host (round to nearest even). */
#ifndef VKTI_BASE_HALF_H
#define VKTI_BASE_HALF_H

#include <stddef.h>
#include <stdint.h>

uint16_t vkti_f32_to_f16(float f);
float vkti_f16_to_f32(uint16_t h);
uint16_t vkti_f32_to_bf16(float f);
float vkti_bf16_to_f32(uint16_t h);
void vkti_f32_to_f16_n(uint16_t *dst, const float *src, size_t n);
void vkti_f16_to_f32_n(float *dst, const uint16_t *src, size_t n);

#endif
