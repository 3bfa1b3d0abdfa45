/*
 * user.c — account rules (see user.h).
 */
#include "domain/user.h"

#include "core/text.h"

#include <string.h>

void user_check_username(const char *u, domain_errors *errs)
{
    size_t n = u ? strlen(u) : 0;
    if (n < USER_NAME_MIN || n > USER_NAME_MAX) {
        domain_errors_add(errs, "user", "username", "must be %d to %d characters", USER_NAME_MIN, USER_NAME_MAX);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            domain_errors_add(errs, "user", "username", "may contain only letters, digits, '_', '.' and '-'");
            return;
        }
    }
}

void user_check_email(const char *e, domain_errors *errs)
{
    size_t n = e ? strlen(e) : 0;
    const char *at = e ? strchr(e, '@') : NULL;
    if (n == 0 || n > USER_EMAIL_MAX || !at || at == e || !at[1] || strchr(at + 1, '@') || !text_utf8_valid(e, n) ||
        text_has_control(e) || strpbrk(e, " \t<>\"'")) {
        domain_errors_add(errs, "user", "email", "must be an email address (name@host)");
    }
}

void user_check_password(const char *p, domain_errors *errs)
{
    size_t n = p ? strlen(p) : 0;
    if (n < USER_PASSWORD_MIN)
        domain_errors_add(errs, "user", "password", "must be at least %d characters", USER_PASSWORD_MIN);
    else if (n > USER_PASSWORD_MAX)
        domain_errors_add(errs, "user", "password", "must be at most %d characters", USER_PASSWORD_MAX);
    else if (!text_utf8_valid(p, n))
        domain_errors_add(errs, "user", "password", "must be valid UTF-8");
}
