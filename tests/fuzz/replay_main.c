/*
 * replay_main.c - runs a libFuzzer target over the files of its corpus folder, so that the
 * normal (non-fuzzing) test build checks every target against its seeds and past crashes.
 * Files run in name order, each once, so that a run is deterministic.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int not_hidden(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

/* Runs the target on one file; -1 if the file cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    struct dirent **list;
    int count = scandir(argv[1], &list, not_hidden, alphasort);
    if (count < 0) {
        fprintf(stderr, "%s: no corpus folder\n", argv[1]);
        return 1;
    }
    int n = 0, bad = 0;
    for (int i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], list[i]->d_name);
        if (replay_file(path) == 0)
            n++;
        else {
            fprintf(stderr, "%s: cannot be read\n", path);
            bad++;
        }
        free(list[i]);
    }
    free(list);
    printf("%s: %d inputs replayed\n", argv[0], n);
    return n > 0 && bad == 0 ? 0 : 1;
}
