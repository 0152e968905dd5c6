/* Test helpers for the server tests: raw TCP and HTTP clients on 127.0.0.1, so the tests
 * exercise the wire formats exactly as other programs would send them. */
#ifndef SDB_TESTS_SERVER_HELPERS_H
#define SDB_TESTS_SERVER_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* Connect to 127.0.0.1:port; -1 on failure. Receives time out after 10 s. */
int th_connect(uint16_t port);
/* Send all of s. */
void th_send(int fd, const char *s);
void th_send_n(int fd, const void *p, size_t n);
/* Read one reply line into out (without LF); returns its length, -1 on EOF or timeout. */
int th_line(int fd, char *out, size_t n);
/* Read lines until one starting with {"ok" or {"error" whose line is this; returns the
 * reply line in out; earlier lines are appended to also (may be NULL). */
int th_reply(int fd, char *out, size_t n, char *also, size_t alsolen);
/* True when the server closed the connection (within 10 s). */
int th_closed(int fd);

/* One HTTP request; returns the status, the body in body (NUL terminated). extra_headers
 * is a block of "Name: value\r\n" lines or NULL. */
int th_http(uint16_t port, const char *method, const char *path, const char *extra_headers,
            const void *body, size_t blen, char *out, size_t outlen);

#endif
