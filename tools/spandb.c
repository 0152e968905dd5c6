/* spandb: the command-line entry point. Dispatches to one subcommand per file; the
 * table below is the single list of them. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("spandb %s\n", SPANDB_VERSION);
    return 0;
}

const sdb_command sdb_commands[] = {
    {"bench", sdb_cmd_bench, "[--data DIR] [--runs N] FILE.sql", "time SQL in-process (median)"},
    {"compact", sdb_cmd_compact, "--data DIR [--table T]",
     "merge the segments of every partition into one"},
    {"gen", sdb_cmd_gen, "--rows N [--seed S] [--days D] [--format F]",
     "write generated LLM spans to stdout"},
    {"import", sdb_cmd_import, "[--data DIR] [--format F] [--strict] FILE...",
     "load line-protocol files (plain, .zst, .lz4, -) into a data directory"},
    {"inspect", sdb_cmd_inspect, "FILE.seg...", "show what a segment file holds, column by column"},
    {"query", sdb_cmd_query, "[--data DIR | --connect ADDR] [--format F] \"SQL\"",
     "run a SQL statement on a data directory"},
    {"serve", sdb_cmd_serve, "[--data DIR] [--listen ADDR] [--http ADDR] [--token T]",
     "serve a data directory over TCP and HTTP"},
    {"shell", sdb_cmd_shell, "[--data DIR | --connect ADDR]", "interactive SQL shell"},
    {"verify", sdb_cmd_verify, "FILE.seg... | --data DIR",
     "check every checksum and block of segments (and the WAL)"},
    {"version", cmd_version, "", "print the version"},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: spandb COMMAND [ARGS]\n\ncommands:\n");
    for (const sdb_command *c = sdb_commands; c->name != NULL; c++)
        fprintf(f, "  %-8s %-44s %s\n", c->name, c->usage, c->help);
    fprintf(f, "\nrun 'spandb COMMAND --help' for the options of one command\n");
}

/* Queries build and drop hash tables of a few MB per morsel. With glibc's defaults each one
 * is mmapped or trimmed back to the kernel when freed and faulted in again, zeroed, by the
 * next morsel: on a day of spans grouped by user that was a third of the time. Keeping up to
 * 128 MiB of freed heap, and serving blocks up to 32 MiB from it, reuses those pages
 * (measured: q09 26 -> 18 ms, q10 163 -> 129 ms; an import's peak RSS grows by the kept heap). */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
}

int main(int argc, char **argv)
{
    tune_malloc();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (const sdb_command *c = sdb_commands; c->name != NULL; c++)
        if (strcmp(c->name, argv[1]) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "spandb: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
