/* The command line: `arbitrade <command> [options]`. */
#ifndef ARB_APP_APP_H
#define ARB_APP_APP_H

/* Runs the command named by argv[1]; returns the process exit status
 * (0 ok, 1 failure, 2 usage or configuration error). Main thread only. */
int app_main(int argc, char **argv);

#endif
