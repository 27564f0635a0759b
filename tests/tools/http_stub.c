/* http_stub.c - a minimal HTTP server for the command-line tests that need a central to answer
 * before `serve` is there to run: `http_stub PORTFILE` listens on 127.0.0.1 (a free port,
 * written to PORTFILE), and answers GET PREFIX/api/v1/health with 200 {"status": "ok"} for any
 * PREFIX, anything else with 404, one request per connection, until killed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void answer(int c)
{
    char req[8192];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t r = read(c, req + n, sizeof req - 1 - n);
        if (r <= 0)
            return;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    char method[16], path[4096];
    if (sscanf(req, "%15s %4095s", method, path) != 2)
        return;
    size_t pl = strlen(path);
    const char *want = "/api/v1/health";
    int ok = strcmp(method, "GET") == 0 && pl >= strlen(want) &&
             strcmp(path + pl - strlen(want), want) == 0;
    const char *body = ok ? "{\"status\": \"ok\"}" : "{\"error\": \"not_found\"}";
    char out[512];
    int m = snprintf(out, sizeof out,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     ok ? "200 OK" : "404 Not Found", strlen(body), body);
    if (write(c, out, (size_t)m) != m)
        return;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: http_stub PORTFILE\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 16) != 0 ||
        getsockname(s, (struct sockaddr *)&sa, &sl) != 0) {
        perror("http_stub");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        answer(c);
        close(c);
    }
}
