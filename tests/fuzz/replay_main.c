/*
 * replay_main.c: runs a fuzz target's LLVMFuzzerTestOneInput over every file
 * of a corpus folder, so saved inputs (and crashers) are replayed by
 * `make test` with the ordinary compiler and the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	if ((d = opendir(argv[1])) == NULL) {
		printf("ok - no corpus in %s\n", argv[1]);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		size_t len;
		char *buf;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if ((buf = vg_read_file(path, &len)) == NULL)
			continue;
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
		n++;
	}
	closedir(d);
	printf("ok - replayed %d inputs from %s\n", n, argv[1]);
	return 0;
}
