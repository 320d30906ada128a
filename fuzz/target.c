/*
 * The libFuzzer entry point of one target; the Makefile builds this file once
 * per target with -DLETHE_FUZZ_BODY=lethe_fuzz_<target> (fuzz/fuzz.h). The
 * scratch files the body writes live in $TMPDIR (default /tmp), one pair per
 * process, removed at exit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef LETHE_FUZZ_BODY
#error "build with -DLETHE_FUZZ_BODY=lethe_fuzz_<target>"
#endif

static char scratch[2][512];

static void remove_scratch(void)
{
    for (int k = 0; k < 2; k++)
        if (scratch[k][0] != '\0')
            unlink(scratch[k]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("TMPDIR");
    for (int k = 0; k < 2; k++) {
        snprintf(scratch[k], sizeof scratch[k], "%s/lethe-fuzz-XXXXXX",
                 dir != NULL && *dir != '\0' ? dir : "/tmp");
        int fd = mkstemp(scratch[k]);
        if (fd < 0) {
            perror("lethe fuzz: mkstemp");
            exit(1);
        }
        close(fd);
    }
    atexit(remove_scratch);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    LETHE_FUZZ_BODY(scratch[0], scratch[1], data, size);
    return 0;
}
