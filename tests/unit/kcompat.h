/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Just enough of the kernel's types for the pure-logic parts of the
 * module (kmod/decode.c, kmod/gpt.c) to build as ordinary host programs.
 */
#ifndef MINIKVM_KCOMPAT_H
#define MINIKVM_KCOMPAT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define BIT_ULL(n)	(1ULL << (n))

#endif /* MINIKVM_KCOMPAT_H */
