/* Setup shared by the anchor echo servers: argument parsing and the descriptor limit.
 * None of this runs on the measured path; keeping it here keeps each server down to its loop. */
#ifndef MUXIO_BENCH_ECHO_COMMON_H
#define MUXIO_BENCH_ECHO_COMMON_H

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* Resolves "HOST:PORT" or "[V6HOST]:PORT" (numeric port) into *addr. Returns 0 on success. */
static int echo_resolve(const char* spec, struct sockaddr_storage* addr, socklen_t* len) {
  char host[256];
  const char* port;
  if (spec[0] == '[') {
    const char* close = strchr(spec, ']');
    if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof host) return -1;
    memcpy(host, spec + 1, (size_t)(close - spec - 1));
    host[close - spec - 1] = '\0';
    port = close + 2;
  } else {
    const char* colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host) return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    port = colon + 1;
  }
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

/* Parses `--listen HOST:PORT` (the only argument) or exits with a usage message. */
static void echo_parse_args(int argc, char** argv, struct sockaddr_storage* addr, socklen_t* len) {
  if (argc != 3 || strcmp(argv[1], "--listen") != 0) {
    fprintf(stderr, "usage: %s --listen HOST:PORT\n", argv[0]);
    exit(2);
  }
  if (echo_resolve(argv[2], addr, len) != 0) {
    fprintf(stderr, "%s: cannot resolve '%s'\n", argv[0], argv[2]);
    exit(2);
  }
}

/* Thousands of clients need more than the usual soft limit of 1024 descriptors. */
static void echo_raise_nofile(void) {
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

#endif
