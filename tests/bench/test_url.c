/* The bench's URL parse: --url (ws://, wss://) and the url of a call.join redirect (http(s)://,
 * with a query naming the node and often no path). */
#include <string.h>

#include "bench/sig.h"
#include "sbtest.h"

SB_TEST(url_plain_websocket) {
  sb_bench_url_t u;
  CHECK_EQ(sb_bench_url_parse("ws://127.0.0.1:8080/ws", &u), 0);
  CHECK_STR(u.host, "127.0.0.1");
  CHECK_EQ(u.port, 8080);
  CHECK_STR(u.path, "/ws");
  CHECK_EQ(u.tls, 0);
}

SB_TEST(url_tls_with_default_port_and_query) {
  sb_bench_url_t u;
  CHECK_EQ(sb_bench_url_parse("wss://lb.example/ws?node=n2", &u), 0);
  CHECK_STR(u.host, "lb.example");
  CHECK_EQ(u.port, 443);
  CHECK_STR(u.path, "/ws?node=n2");
  CHECK_EQ(u.tls, 1);
}

SB_TEST(url_redirect_forms_mean_the_signaling_path) {
  sb_bench_url_t u;
  /* docs/protocol.md: an http(s) URL means ws(s), and an empty path /ws */
  CHECK_EQ(sb_bench_url_parse("https://127.0.0.1:8443/?node=n3", &u), 0);
  CHECK_STR(u.path, "/ws?node=n3");
  CHECK_EQ(u.tls, 1);
  CHECK_EQ(u.port, 8443);
  CHECK_EQ(sb_bench_url_parse("http://10.0.0.1?node=n1", &u), 0);
  CHECK_STR(u.host, "10.0.0.1");
  CHECK_EQ(u.port, 80);
  CHECK_STR(u.path, "/ws?node=n1");
  CHECK_EQ(u.tls, 0);
  CHECK_EQ(sb_bench_url_parse("https://lb.example", &u), 0);
  CHECK_STR(u.path, "/ws");
  CHECK_EQ(sb_bench_url_parse("https://lb.example/signal/ws", &u), 0);
  CHECK_STR(u.path, "/signal/ws");
}

SB_TEST(url_refused) {
  sb_bench_url_t u;
  CHECK_EQ(sb_bench_url_parse("ftp://127.0.0.1/ws", &u), -1);
  CHECK_EQ(sb_bench_url_parse("ws://", &u), -1);
  CHECK_EQ(sb_bench_url_parse("ws://:80/ws", &u), -1);
  CHECK_EQ(sb_bench_url_parse("ws://h:0/ws", &u), -1);
  CHECK_EQ(sb_bench_url_parse("ws://h:65536/ws", &u), -1);
  CHECK_EQ(sb_bench_url_parse("ws://h:80x/ws", &u), -1);
  char long_path[400] = "ws://h/";
  memset(long_path + 7, 'a', 300);
  long_path[307] = '\0';
  CHECK_EQ(sb_bench_url_parse(long_path, &u), -1);
}
