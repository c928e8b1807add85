/*
 * tests/fuzz/replay_main.c - runs a libFuzzer target without libFuzzer, so
 * every fuzz target is also a regression test in `make test` and `make asan`.
 *
 * Usage: fuzz_x-replay [CORPUS_DIR_OR_FILE...]
 * Feeds each corpus file, then DD_FUZZ_RANDOM (default 2000) pseudo-random
 * inputs from a fixed seed, some of them mutations of the corpus files.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1 << 20)
#define MAX_SEEDS 256

static uint8_t *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static int nseeds;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return;
	buf = malloc(REPLAY_MAX_INPUT);
	if (!buf) {
		fclose(f);
		return;
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	if (nseeds < MAX_SEEDS) {
		seeds[nseeds] = buf;
		seed_len[nseeds++] = n;
	} else {
		free(buf);
	}
}

static void run_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char sub[4096];

	if (stat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		run_path(sub);
	}
	closedir(d);
}

static void run_random(int count)
{
	uint8_t *buf = malloc(65536);

	if (!buf)
		return;
	for (int i = 0; i < count; i++) {
		size_t n;
		if (nseeds > 0 && (i & 1)) {
			int s = (int)(next_rand() % (uint64_t)nseeds);
			n = seed_len[s] > 65536 ? 65536 : seed_len[s];
			memcpy(buf, seeds[s], n);
			for (int k = 0, flips = 1 + (int)(next_rand() % 8); n && k < flips; k++)
				buf[next_rand() % n] = (uint8_t)next_rand();
			if (n && next_rand() % 4 == 0)
				n = (size_t)(next_rand() % n);
		} else {
			n = (size_t)(next_rand() % 2048);
			for (size_t k = 0; k < n; k++)
				buf[k] = (uint8_t)next_rand();
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	free(buf);
}

int main(int argc, char **argv)
{
	const char *env = getenv("DD_FUZZ_RANDOM");
	int count = env ? atoi(env) : 2000;

	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	run_random(count);
	for (int i = 0; i < nseeds; i++)
		free(seeds[i]);
	printf("replayed %d corpus inputs and %d random ones\n", nseeds, count);
	return 0;
}
