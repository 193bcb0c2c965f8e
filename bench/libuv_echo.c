/* libuv-echo: an echo server written the way libuv's main users write one.
 *
 * Single thread, one uv_loop. Reads land in one static buffer (the read callback runs right after
 * the alloc callback, so nothing else can be using it). The echo goes out with uv_try_write,
 * which writes at once when nothing is queued; only what the socket did not take is copied into
 * a uv_write request. That is Node.js's stream pattern, and it keeps the ping-pong path free of
 * allocations: a malloc/free of a 64 KiB read buffer per message made glibc trim the heap (brk)
 * every few messages, which measured malloc rather than libuv.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "echo_common.h"

/* A queued write and the bytes it sends, freed together when the write completes. */
struct echo_write {
  uv_write_t req;
  uv_buf_t buf;
  char data[];
};

static char g_buf[64 * 1024];

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)handle;
  (void)suggested;
  *buf = uv_buf_init(g_buf, sizeof g_buf);
}

static void on_close(uv_handle_t* handle) {
  free(handle);
}

static void close_client(uv_stream_t* client) {
  if (!uv_is_closing((uv_handle_t*)client)) uv_close((uv_handle_t*)client, on_close);
}

static void on_written(uv_write_t* req, int status) {
  uv_stream_t* client = req->handle;
  free(req); /* the struct echo_write it starts */
  if (status < 0) close_client(client);
}

/* Queues data[0..len) behind whatever is still being written. */
static void queue_write(uv_stream_t* client, const char* data, size_t len) {
  struct echo_write* w = malloc(sizeof *w + len);
  if (!w) {
    close_client(client);
    return;
  }
  memcpy(w->data, data, len);
  w->buf = uv_buf_init(w->data, (unsigned)len);
  if (uv_write(&w->req, client, &w->buf, 1, on_written) != 0) {
    free(w);
    close_client(client);
  }
}

static void on_read(uv_stream_t* client, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) { /* EOF or an error */
    close_client(client);
    return;
  }
  if (nread == 0) return; /* nothing this time (EAGAIN) */
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  /* Fails with UV_EAGAIN while earlier writes are queued, which keeps the bytes in order. */
  int n = uv_try_write(client, &out, 1);
  if (n == nread) return;
  if (n < 0 && n != UV_EAGAIN) {
    close_client(client);
    return;
  }
  size_t done = n > 0 ? (size_t)n : 0;
  queue_write(client, buf->base + done, (size_t)nread - done);
}

static void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  uv_tcp_t* client = malloc(sizeof *client);
  if (!client) return;
  uv_tcp_init(server->loop, client);
  if (uv_accept(server, (uv_stream_t*)client) != 0) {
    uv_close((uv_handle_t*)client, on_close);
    return;
  }
  uv_tcp_nodelay(client, 1); /* echoes must not wait for the client's delayed ACK */
  uv_read_start((uv_stream_t*)client, on_alloc, on_read);
}

int main(int argc, char** argv) {
  struct sockaddr_storage addr;
  socklen_t len;
  echo_parse_args(argc, argv, &addr, &len);
  echo_raise_nofile();
  signal(SIGPIPE, SIG_IGN);

  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  int rc = uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t*)&server, SOMAXCONN, on_connection);
  if (rc != 0) {
    fprintf(stderr, "libuv-echo: listen: %s\n", uv_strerror(rc));
    return 1;
  }
  return uv_run(loop, UV_RUN_DEFAULT); /* runs until killed */
}
