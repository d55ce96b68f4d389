// ascal_udpsink PORT: binds PORT with a receive buffer of 1 GiB (SO_RCVBUFFORCE), waits for a line on stdin (the flood
// is over), then drains the queue with recvmsg(2), one datagram per call, until EAGAIN, and prints what it read.
// The two phases let the flood (sender + softirq) and the reads (recvmsg + copy) be profiled apart.
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int rcvbuf = 1 << 30; setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
    if (bind(fd, (struct sockaddr *)&a, sizeof a)) { perror("bind"); return 1; }
    printf("ready\n"); fflush(stdout);
    char line[64]; if (!fgets(line, sizeof line, stdin)) return 1;
    static char buf[65536];
    struct iovec iov = { buf, sizeof buf };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    long n = 0, bytes = 0;
    for (;;) {
        ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT);
        if (r < 0) { if (errno == EINTR) continue; break; }
        n++; bytes += r;
    }
    printf("read %ld bytes %ld\n", n, bytes);
    return 0;
}
