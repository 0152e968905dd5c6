/* Replays every file of a corpus folder through a fuzz harness without libFuzzer (zstd's
 * regression_driver.c), so the gcc test run under sanitizers exercises the harnesses too. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"

int main(int argc, char **argv)
{
    int files = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        struct dirent *e;
        if (d == NULL) {
            fprintf(stderr, "%s: cannot open\n", argv[a]);
            return 2;
        }
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            FILE *f;
            unsigned char *buf;
            long n;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if ((f = fopen(path, "rb")) == NULL)
                continue;
            fseek(f, 0, SEEK_END);
            n = ftell(f);
            fseek(f, 0, SEEK_SET);
            buf = malloc(n > 0 ? (size_t)n : 1);
            if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
                LLVMFuzzerTestOneInput(buf, (size_t)n);
                files++;
            }
            free(buf);
            fclose(f);
        }
        closedir(d);
    }
    printf("replayed %d inputs\n", files);
    return 0;
}
