// ascal_udpflood DST_IP PORT SIZE COUNT: COUNT sendmsg(2) calls of SIZE-byte UDP datagrams, one datagram per call.
// Part of bench/calibrate (BENCHMARKS.md, "CPU cost calibration").
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s DST_IP PORT SIZE COUNT\n", argv[0]); return 2; }
    int size = atoi(argv[3]); long count = atol(argv[4]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    inet_pton(AF_INET, argv[1], &dst.sin_addr);
    int sndbuf = 64 << 20; setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
    char *buf = calloc(1, size);
    struct iovec iov = { buf, size };
    struct msghdr m = { .msg_name = &dst, .msg_namelen = sizeof dst, .msg_iov = &iov, .msg_iovlen = 1 };
    long sent = 0, errs = 0;
    for (long i = 0; i < count; i++) {
        memcpy(buf, &i, sizeof i < (size_t)size ? sizeof i : (size_t)size);
        if (sendmsg(fd, &m, 0) == size) sent++; else errs++;
    }
    printf("sent %ld errors %ld\n", sent, errs);
    return 0;
}
