/* Raw TCP and HTTP test clients (tests/server/helpers.h). */
#include "tests/server/helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int th_connect(uint16_t port)
{
    struct sockaddr_in a;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

void th_send_n(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

void th_send(int fd, const char *s)
{
    th_send_n(fd, s, strlen(s));
}

int th_line(int fd, char *out, size_t n)
{
    size_t len = 0;
    for (;;) {
        char ch;
        ssize_t r = recv(fd, &ch, 1, 0);
        if (r <= 0)
            return -1;
        if (ch == '\n')
            break;
        if (len + 1 < n)
            out[len++] = ch;
    }
    out[len] = '\0';
    return (int)len;
}

int th_reply(int fd, char *out, size_t n, char *also, size_t alsolen)
{
    if (also != NULL && alsolen > 0)
        also[0] = '\0';
    for (;;) {
        int r = th_line(fd, out, n);
        if (r < 0)
            return -1;
        if (strncmp(out, "{\"ok\"", 5) == 0 || strncmp(out, "{\"error\"", 8) == 0)
            return r;
        if (also != NULL) {
            size_t l = strlen(also);
            snprintf(also + l, alsolen - l, "%s\n", out);
        }
    }
}

int th_closed(int fd)
{
    char buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0)
            return 1;
        if (r < 0)
            return errno == ECONNRESET;
    }
}

int th_http(uint16_t port, const char *method, const char *path, const char *extra_headers,
            const void *body, size_t blen, char *out, size_t outlen)
{
    char req[4096];
    size_t got = 0;
    int fd = th_connect(port), status = -1;
    char *p;
    if (fd < 0)
        return -1;
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
             method, path, extra_headers != NULL ? extra_headers : "", blen);
    th_send(fd, req);
    if (blen > 0)
        th_send_n(fd, body, blen);
    for (;;) {
        ssize_t r;
        if (got + 1 >= outlen)
            break;
        r = recv(fd, out + got, outlen - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    out[got] = '\0';
    close(fd);
    if (sscanf(out, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    if ((p = strstr(out, "\r\n\r\n")) != NULL)
        memmove(out, p + 4, strlen(p + 4) + 1);
    return status;
}
