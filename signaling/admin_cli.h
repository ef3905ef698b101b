/* `switchboard admin`: a command-line client of the administrator HTTP API. */
#ifndef SB_ADMIN_CLI_H
#define SB_ADMIN_CLI_H

/** Runs the command (argv[0] is "admin"); returns the process exit status. */
int sb_admin_cli_main(int argc, char **argv);

#endif
