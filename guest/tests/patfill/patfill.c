/* patfill: fills most of this VM's free memory with a pattern made at run
 * time from a seed, and keeps it resident; the memory half of
 * tests/system/test_isolation.py. The neighbour VM then looks for the
 * pattern in its own RAM.
 *
 *   patfill SEED MIB      fill MIB MiB
 *   patfill SEED auto     fill MemAvailable less a 48 MiB margin
 *
 * The pattern is 16-byte records {key, counter ^ mix}: key =
 * splitmix64(SEED), mix = splitmix64(key). The test computes the key from
 * the seed on the host and gives the scanner only its complement. Prints
 * "PATFILL filled mib=N records=R verified=V" after reading the records
 * back, then sleeps with the memory locked until killed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static long mem_available_mib(void)
{
    FILE* f = fopen("/proc/meminfo", "r");
    char line[128];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: patfill SEED MIB|auto\n");
        return 2;
    }
    const uint64_t seed = strtoull(argv[1], NULL, 0);
    long mib = strcmp(argv[2], "auto") == 0 ? mem_available_mib() - 48 : strtol(argv[2], NULL, 0);
    if (mib <= 0) {
        fprintf(stderr, "patfill: nothing to fill (%ld MiB)\n", mib);
        return 2;
    }
    const size_t size = (size_t)mib << 20;
    uint64_t* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
        perror("patfill: mmap");
        return 1;
    }
    const uint64_t key = splitmix64(seed);
    const uint64_t mix = splitmix64(key);
    const size_t records = size / 16;
    for (size_t i = 0; i < records; i++) {
        p[2 * i] = key;
        p[2 * i + 1] = i ^ mix;
    }
    size_t verified = 0;
    for (size_t i = 0; i < records; i++)
        verified += p[2 * i] == key && p[2 * i + 1] == (i ^ mix);
    if (mlock(p, size) != 0)
        perror("patfill: mlock (the pages stay resident anyway: no swap)");
    printf("PATFILL filled mib=%ld records=%zu verified=%zu\n", mib, records, verified);
    fflush(stdout);
    for (;;)
        pause();
}
