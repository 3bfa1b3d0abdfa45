/*
 * log.h — one line per event, as text for a terminal or JSON for a collector.
 *
 * Each line is written with a single write(2) so lines from worker threads
 * never interleave. Callers never pass secrets: passwords and tokens are not
 * given to the logger at all, rather than redacted after the fact.
 */
#ifndef MG_LOG_H
#define MG_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* format: "text" or "json"; level: "debug", "info", "warn", "error". */
int log_configure(const char *format, const char *level);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Key/value fields: kv is "key", "value", ..., NULL. Values are strings. */
void log_fields(enum log_level level, const char *msg, const char *const *kv);
/* Marks the request this thread works for (NULL: none): its id is added to
 * every line the thread writes until changed. */
void log_set_request_id(const char *id);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
