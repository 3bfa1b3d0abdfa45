/*
 * fs.h — files: making directories, reading, and writing files that
 * appear whole or not at all.
 *
 * A file that readers must never see half written (a backup, the saved
 * layout, the generated secret key, a verification record) is written
 * under a temporary name in its directory, fsynced, renamed to its name and
 * the directory fsynced: after a crash or a full disk there is either the
 * old file or the new one. fs_write_atomic does all of it for bytes in
 * memory, fs_write_atomic_with for a writer that streams (gzip);
 * fs_write_temp and fs_publish are the two steps, for a caller that picks
 * the final name afterwards (a backup's name must not replace another).
 */
#ifndef MG_FS_H
#define MG_FS_H

#include <stddef.h>

/* mkdir -p with mode 0750 for what it creates; -1 with a message naming the
 * directory that could not be made. */
int fs_make_dirs(const char *path, char *err, size_t errlen);
/* A new directory only this user can enter (mkdtemp, mode 0700) under
 * $TMPDIR or /tmp, named "musicgraph-PURPOSE-XXXXXX"; its path into dir. */
int fs_make_private_temp_dir(const char *purpose, char *dir, size_t len, char *err, size_t errlen);

/* Reads the first max bytes (or fewer) of the regular file path into a new
 * NUL-terminated *data; *size receives the whole file's size. */
int fs_read_file(const char *path, size_t max, unsigned char **data, size_t *len, size_t *size, char *err,
                 size_t errlen);

/* write(2) until everything is written (retrying interrupted writes); 0, or
 * -1 with errno. */
int fs_write_all(int fd, const void *data, size_t len);

/* Writes a file's content to fd: 0, or -1 with errno set. */
typedef int (*fs_writer)(int fd, void *ctx);

/* Creates a temporary file with the given mode in dir, lets fill write it,
 * syncs and closes it; its path goes to tmp. Nothing is left on failure. */
int fs_write_temp(const char *dir, unsigned mode, fs_writer fill, void *ctx, char *tmp, size_t tmplen, char *err,
                  size_t errlen);
/* Renames tmp to dir/name and syncs dir; path (may be NULL) receives the
 * final path. With replace an existing file is replaced; without, an
 * existing name is left alone and MG_ERR_EXISTS returned (tmp stays for
 * another name). On any other failure tmp is removed. */
int fs_publish(const char *tmp, const char *dir, const char *name, int replace, char *path, size_t pathlen, char *err,
               size_t errlen);

/* Writes path through fill, replacing it atomically (the two steps). */
int fs_write_atomic_with(const char *path, unsigned mode, fs_writer fill, void *ctx, char *err, size_t errlen);
/* The same for bytes in memory. */
int fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode, char *err, size_t errlen);

#endif
