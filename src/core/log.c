/*
 * log.c — text or JSON log lines on stderr (see log.h).
 */
#include "core/log.h"

#include "core/buf.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_json;
/* The request this thread is working for, added to every line it writes. */
static _Thread_local char current_request[40];
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_configure(const char *format, const char *level)
{
    if (format) {
        if (strcmp(format, "json") == 0)
            log_json = 1;
        else if (strcmp(format, "text") == 0)
            log_json = 0;
        else
            return -1;
    }
    if (level) {
        size_t i;
        for (i = 0; i < 4; i++)
            if (strcmp(level, level_names[i]) == 0)
                break;
        if (i == 4)
            return -1;
        log_min = (enum log_level)i;
    }
    return 0;
}

int log_enabled(enum log_level level) { return level >= log_min; }

void log_set_request_id(const char *id) { snprintf(current_request, sizeof current_request, "%s", id ? id : ""); }

/* A text value goes out bare only when it cannot be mistaken for more than one
 * value: no space, quote, backslash, equals sign, control character or DEL.
 * Otherwise it is quoted and escaped, so a name with a newline in it cannot
 * forge a log line. */
static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '"' || *s == '\\' || *s == '=')
            return 1;
    return 0;
}

static void put_text_value(buf *line, const char *s)
{
    if (!needs_quotes(s)) {
        buf_puts(line, s);
        return;
    }
    buf_putc(line, '"');
    jw_escape(line, s, strlen(s));
    buf_putc(line, '"');
}

static int has_key(const char *const *kv, const char *key)
{
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        if (strcmp(kv[i], key) == 0)
            return 1;
    return 0;
}

static void format_time(char *out, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void log_fields(enum log_level level, const char *msg, const char *const *kv)
{
    if (!log_enabled(level))
        return;
    char when[40];
    format_time(when, sizeof when);
    buf line = BUF_INIT;
    int with_id = current_request[0] && !has_key(kv, "id");
    if (log_json) {
        json_writer w;
        jw_init(&w, &line);
        jw_object_begin(&w);
        jw_key(&w, "ts");
        jw_string(&w, when);
        jw_key(&w, "level");
        jw_string(&w, level_names[level]);
        jw_key(&w, "msg");
        jw_string(&w, msg);
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
            jw_key(&w, kv[i]);
            jw_string(&w, kv[i + 1]);
        }
        if (with_id) {
            jw_key(&w, "id");
            jw_string(&w, current_request);
        }
        jw_object_end(&w);
    } else {
        buf_printf(&line, "%s %-5s ", when, level_names[level]);
        /* The message is free text: control characters escaped, not quoted. */
        for (const char *m = msg; *m; m++) {
            if ((unsigned char)*m < 0x20 || *m == 0x7f)
                jw_escape(&line, m, 1);
            else
                buf_putc(&line, *m);
        }
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
            buf_printf(&line, " %s=", kv[i]);
            put_text_value(&line, kv[i + 1]);
        }
        if (with_id) {
            buf_puts(&line, " id=");
            put_text_value(&line, current_request);
        }
    }
    buf_putc(&line, '\n');
    if (!buf_failed(&line)) {
        ssize_t ignored = write(STDERR_FILENO, line.data, line.len);
        (void)ignored;
    }
    buf_free(&line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fields(level, msg, NULL);
}
