/*
 * Runs a fuzz target's entry point over files and directories of files
 * (the seed corpus), for every compiler and in every ctest run; fails
 * when it found no input at all, so an emptied corpus does not pass.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The target's entry point (fuzz_csv.c or fuzz_jsonl.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the target on the file at path; false when it cannot be read. */
static bool replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;
    bool ok = false;

    if (!f)
        return false;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
        LLVMFuzzerTestOneInput(buf, (size_t)size);
        ok = true;
    }
    free(buf);
    fclose(f);
    return ok;
}

/* Replay path, or every regular file in it; the number of inputs run. */
static long replay(const char *path)
{
    char child[4096];
    struct dirent *e;
    struct stat sb;
    long n = 0;
    DIR *dir;

    if (stat(path, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode))
        return replay_file(path) ? 1 : -1;
    if (!(dir = opendir(path)))
        return -1;
    while ((e = readdir(dir)) != NULL) {
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (stat(child, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (!replay_file(child)) {
                n = -1;
                break;
            }
            n++;
        }
    }
    closedir(dir);
    return n;
}

int main(int argc, char **argv)
{
    long total = 0, n;
    int i;

    for (i = 1; i < argc; i++) {
        n = replay(argv[i]);
        if (n < 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
        total += n;
    }
    printf("replayed %ld inputs\n", total);
    return total > 0 ? 0 : 1;
}
