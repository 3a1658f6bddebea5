/* The CPU that a program sees under valgrind, for .ci/bench-guard.sh: valgrind shows a
 * canned CPU per capability level of the host (e.g. a Haswell for any AVX2 host, whatever
 * its vendor), and that CPU, not the host's, decides which SIMD paths sha2, memchr,
 * const-hex and glibc take in the counted code. Same line = same instruction counts. */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  unsigned a, b, c, d;
  char vendor[13] = {0};
  __cpuid(0, a, b, c, d);
  unsigned max = a;
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  __cpuid(1, a, b, c, d);
  unsigned family = ((a >> 8) & 0xf) + ((a >> 20) & 0xff);
  unsigned model = ((a >> 4) & 0xf) | ((a >> 12) & 0xf0);
  printf("%s family %u model %u, leaf1 ecx=%08x edx=%08x", vendor, family, model, c, d);
  if (max >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    printf(", leaf7 ebx=%08x ecx=%08x edx=%08x", b, c, d);
  }
  printf("\n");
  return 0;
}
