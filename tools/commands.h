/* The subcommands of the spandb command, one file each (tools/cmd_<name>.c). Each takes the
 * arguments after its name and returns the process exit status. */
#ifndef SDB_TOOLS_COMMANDS_H
#define SDB_TOOLS_COMMANDS_H

typedef struct sdb_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage; /* one line: arguments */
    const char *help;  /* one line: what it does */
} sdb_command;

/* The command table, ended by a zeroed entry (tools/spandb.c). */
extern const sdb_command sdb_commands[];

int sdb_cmd_inspect(int argc, char **argv);
int sdb_cmd_verify(int argc, char **argv);
int sdb_cmd_gen(int argc, char **argv);
int sdb_cmd_import(int argc, char **argv);
int sdb_cmd_compact(int argc, char **argv);
int sdb_cmd_query(int argc, char **argv);
int sdb_cmd_bench(int argc, char **argv);
int sdb_cmd_serve(int argc, char **argv);
int sdb_cmd_shell(int argc, char **argv);

#endif
