/*
 * user.h — rules for curator accounts (pure, like rules.h).
 */
#ifndef MG_USER_H
#define MG_USER_H

#include "domain/rules.h"

#define USER_NAME_MIN     3
#define USER_NAME_MAX     80
#define USER_EMAIL_MAX    254
#define USER_PASSWORD_MIN 10
#define USER_PASSWORD_MAX 1024

/* Each adds one error (field "username", "email" or "password") when broken. */
void user_check_username(const char *username, domain_errors *errs);
void user_check_email(const char *email, domain_errors *errs);
void user_check_password(const char *password, domain_errors *errs);

#endif
