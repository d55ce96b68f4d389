// ascal_tcpstream recv PORT            : accepts one connection, reads until EOF, prints the bytes
// ascal_tcpstream send DST_IP PORT CHUNK TOTAL : connects, writes TOTAL bytes in CHUNK-byte write(2)s, closes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "recv")) {
        int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
        if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1)) { perror("bind"); return 1; }
        printf("ready\n"); fflush(stdout);
        int c = accept(l, 0, 0);
        static char buf[1 << 16]; long total = 0, calls = 0; ssize_t r;
        while ((r = read(c, buf, sizeof buf)) > 0) { total += r; calls++; }
        printf("read %ld calls %ld\n", total, calls);
        return 0;
    }
    if (argc == 6 && !strcmp(argv[1], "send")) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
        inet_pton(AF_INET, argv[2], &d.sin_addr);
        if (connect(fd, (struct sockaddr *)&d, sizeof d)) { perror("connect"); return 1; }
        long chunk = atol(argv[4]), total = atol(argv[5]), done = 0;
        char *buf = calloc(1, chunk);
        while (done < total) { ssize_t w = write(fd, buf, chunk); if (w <= 0) break; done += w; }
        close(fd);
        printf("wrote %ld\n", done);
        return 0;
    }
    fprintf(stderr, "usage: %s recv PORT | send DST PORT CHUNK TOTAL\n", argv[0]);
    return 2;
}
