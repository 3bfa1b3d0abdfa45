/*
 * fs.h — small file-system helpers shared by the server and the commands.
 */
#ifndef MG_FS_H
#define MG_FS_H

#include <stddef.h>

/* mkdir -p with mode 0750 for what it creates; -1 with a message naming the
 * directory that could not be made. */
int fs_make_dirs(const char *path, char *err, size_t errlen);

#endif
