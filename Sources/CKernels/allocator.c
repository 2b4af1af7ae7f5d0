// Process-wide settings of the C heap that tensor storage comes from.
#include "internal.h"
#include <malloc.h>
#include <sys/mman.h>

__attribute__((constructor)) static void ck_configure_heap(void) {
    // Tensors of 128 KiB and more (a 64x784 float batch is 196 KiB) would each get
    // fresh pages from mmap, and the kernel's zeroing of them took a third of an
    // input-pipeline epoch. Serving them from the heap, and trimming it only
    // past 256 MiB of free space, reuses the same pages step after step, as
    // framework allocators do.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

void ck_advise_huge_pages(void *p, size_t bytes) {
    const uintptr_t huge = 2u << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
}
