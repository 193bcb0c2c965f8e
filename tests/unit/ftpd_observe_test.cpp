// The pure parts of muxftpd's observability: the Prometheus exposition writer, the metrics
// listener's HTTP request parser, JSON log escaping, and the metrics' rendering.
#include <gtest/gtest.h>

#include "ftpd/exposition.hpp"
#include "ftpd/http_request.hpp"
#include "ftpd/json_log.hpp"
#include "ftpd/metrics.hpp"

namespace muxio::ftpd {
namespace {

TEST(Exposition, FamiliesSamplesAndEscaping) {
  Exposition e;
  e.family("x_total", "counter", "Help with \\ and\nnewline.");
  e.sample("x_total", {{"a", "q\"u\\o\nte"}, {"b", "2"}}, 3);
  e.sample("y", 0.25);
  EXPECT_EQ(e.text(),
            "# HELP x_total Help with \\\\ and\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"q\\\"u\\\\o\\nte\",b=\"2\"} 3\n"
            "y 0.25\n");
}

TEST(Exposition, Values) {
  EXPECT_EQ(Exposition::format_value(0), "0");
  EXPECT_EQ(Exposition::format_value(12345678901234), "12345678901234");
  EXPECT_EQ(Exposition::format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(Exposition::format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(Exposition::format_value(0.0 / 0.0), "NaN");
  EXPECT_EQ(std::stod(Exposition::format_value(0.1)), 0.1);
}

TEST(Exposition, HistogramIsCumulative) {
  Exposition e;
  e.histogram("d", {0.5, 1}, {2, 1, 4}, 7.5);
  EXPECT_EQ(e.text(),
            "d_bucket{le=\"0.5\"} 2\nd_bucket{le=\"1\"} 3\nd_bucket{le=\"+Inf\"} 7\n"
            "d_sum 7.5\nd_count 7\n");
}

TEST(Metrics, RenderCountsAndBuckets) {
  Metrics m;
  m.set_loop_count(2);
  m.session_started();
  m.login(Metrics::Login::failed);
  m.transfer(Metrics::Direction::upload, true, 100, 0.02);
  m.reply_code(550);
  m.reply_code(226);
  std::string text = m.render({});
  EXPECT_NE(text.find("muxftpd_sessions_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("muxftpd_logins_total{result=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("muxftpd_transfer_bytes_total{direction=\"upload\",result=\"complete\"} "
                      "100\n"),
            std::string::npos);
  EXPECT_NE(text.find("muxftpd_transfer_duration_seconds_bucket{le=\"0.01\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("muxftpd_transfer_duration_seconds_bucket{le=\"0.025\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("muxftpd_error_replies_total{class=\"5xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("muxftpd_error_replies_total{class=\"4xx\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("muxftpd_loop_busy_ratio{loop=\"1\"} 0\n"), std::string::npos);
}

TEST(HttpRequest, ParsesAHead) {
  HttpRequest r;
  EXPECT_EQ(parse_http_request("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 8192, r),
            HttpParse::ok);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_EQ(parse_http_request("HEAD /healthz HTTP/1.0\r\n\r\n", 8192, r), HttpParse::ok);
  EXPECT_EQ(r.method, "HEAD");
}

TEST(HttpRequest, IncompleteBadAndTooLarge) {
  HttpRequest r;
  EXPECT_EQ(parse_http_request("GET /metrics HTTP/1.1\r\nHost: a\r\n", 8192, r),
            HttpParse::incomplete);
  EXPECT_EQ(parse_http_request("", 8192, r), HttpParse::incomplete);
  for (const char* bad :
       {"GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/2\r\n\r\n", "G(T /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", "GET /metrics HTTP/1.1\r\n folded: x\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nA : b\r\n\r\n", "GET /metrics HTTP/1.1\n\n", "\r\n\r\n"}) {
    EXPECT_EQ(parse_http_request(bad, 8192, r), HttpParse::bad) << bad;
  }
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a');
  EXPECT_EQ(parse_http_request(big, 8192, r), HttpParse::too_large);
  EXPECT_EQ(parse_http_request(big + "\r\n\r\n", 8192, r), HttpParse::too_large);
}

TEST(HttpRequest, Response) {
  EXPECT_EQ(http_response(404, "text/plain", "no\n", false),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\nCache-Control: no-store\r\n\r\nno\n");
  std::string head = http_response(200, "text/plain", "body", true, "Allow: GET\r\n");
  EXPECT_NE(head.find("Content-Length: 4\r\nAllow: GET\r\n"), std::string::npos);
  EXPECT_TRUE(head.ends_with("\r\n\r\n"));
}

TEST(JsonLog, EscapesControlCharactersAndKeepsUtf8) {
  std::string out;
  EXPECT_TRUE(json_escape("a\"b\\c\n\t\x01\x7f é €", out));
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\t\\u0001\\u007f é €");
}

TEST(JsonLog, BytesNotUtf8GetAHexField) {
  std::string out = "{";
  json_field(out, "path", std::string_view("x\xff\xc0\xafy", 5));
  EXPECT_EQ(out, "{\"path\":\"x\\ufffd\\ufffd\\ufffdy\",\"path_hex\":\"78ffc0af79\"");
  std::string surrogate;
  EXPECT_FALSE(json_escape("\xed\xa0\x80", surrogate));
}

TEST(JsonLog, EventFields) {
  SessionEvent e("transfer");
  e.session = 7;
  e.client = "127.0.0.1:5";
  e.user = "alice";
  e.path = "/a";
  e.bytes = 10;
  e.duration = 0.5;
  e.result = "complete";
  EXPECT_EQ(format_event_fields(e),
            "\"event\":\"transfer\",\"session\":7,\"client\":\"127.0.0.1:5\",\"user\":\"alice\","
            "\"path\":\"/a\",\"bytes\":10,\"duration\":0.500000,\"result\":\"complete\"");
}

}  // namespace
}  // namespace muxio::ftpd
