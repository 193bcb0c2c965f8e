/* libevent-echo: an echo server written the way libevent's documentation writes one.
 *
 * Single thread, one event_base, an evconnlistener for accepts and one bufferevent per client.
 * The read callback moves the whole input evbuffer to the output evbuffer (chains are moved,
 * not copied); the bufferevent writes it out when the socket is writable.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include "echo_common.h"

static void on_read(struct bufferevent* bev, void* arg) {
  (void)arg;
  bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void on_event(struct bufferevent* bev, short what, void* arg) {
  (void)arg;
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev); /* closes the socket */
}

static void on_accept(struct evconnlistener* listener, evutil_socket_t fd, struct sockaddr* sa,
                      int salen, void* arg) {
  (void)sa;
  (void)salen;
  (void)arg;
  struct event_base* base = evconnlistener_get_base(listener);
  /* Echoes must leave at once, not wait for the client's delayed ACK. */
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    evutil_closesocket(fd);
    return;
  }
  bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_listen_error(struct evconnlistener* listener, void* arg) {
  (void)listener;
  (void)arg;
  /* EMFILE and the like: keep serving the connections we have. */
  perror("libevent-echo: accept");
}

int main(int argc, char** argv) {
  struct sockaddr_storage addr;
  socklen_t len;
  echo_parse_args(argc, argv, &addr, &len);
  echo_raise_nofile();
  signal(SIGPIPE, SIG_IGN);

  struct event_base* base = event_base_new();
  if (!base) {
    fprintf(stderr, "libevent-echo: event_base_new failed\n");
    return 1;
  }
  struct evconnlistener* listener = evconnlistener_new_bind(
      base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
      SOMAXCONN, (struct sockaddr*)&addr, (int)len);
  if (!listener) {
    perror("libevent-echo: listen");
    return 1;
  }
  evconnlistener_set_error_cb(listener, on_listen_error);
  event_base_dispatch(base); /* runs until killed */
  evconnlistener_free(listener);
  event_base_free(base);
  return 0;
}
