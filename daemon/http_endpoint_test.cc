#include "daemon/http_endpoint.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace pcapml {
namespace {

TEST(HttpEndpoint, ListenAddressesAndTheirErrors) {
  std::string address, err;
  uint16_t port = 1;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:9431", &address, &port, &err)) << err;
  EXPECT_EQ(address, "127.0.0.1");
  EXPECT_EQ(port, 9431);
  ASSERT_TRUE(ParseListenAddress("[::1]:0", &address, &port, &err)) << err;
  EXPECT_EQ(address, "::1");
  EXPECT_EQ(port, 0);
  for (auto [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"9431", "expected ADDRESS:PORT (e.g. 127.0.0.1:9431 or [::1]:9431)"},
           {"127.0.0.1:99999", "port must be a number from 0 to 65535"},
           {"127.0.0.1:", "port must be a number from 0 to 65535"},
           {"127.0.0.1:+80", "port must be a number from 0 to 65535"},
           {"localhost:80", "'localhost' is not an IP address"},
           {"::1:80", "write an IPv6 address in brackets, e.g. [::1]:9431"},
           {"[127.0.0.1]:80", "write an IPv6 address in brackets, e.g. [::1]:9431"},
       }) {
    EXPECT_FALSE(ParseListenAddress(text, &address, &port, &err)) << text;
    EXPECT_EQ(err, why) << text;
  }
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string Ask(int port, const std::string& request) {
  int fd = Connect(port);
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  return answer;
}

// More idle connections than the endpoint keeps open: a request still gets
// its answer at once (the longest waiting connections make room).
TEST(HttpEndpoint, AnswersWhileMoreThanItsLimitOfConnectionsIdle) {
  HttpEndpoint endpoint([] { return std::string("pcapml_x 1\n"); });
  std::string err;
  ASSERT_TRUE(endpoint.Start("127.0.0.1:0", &err)) << err;
  std::vector<int> idle;
  for (size_t i = 0; i < HttpEndpoint::kMaxConnections + 50; ++i) idle.push_back(Connect(endpoint.port()));
  auto started = std::chrono::steady_clock::now();
  std::string answer = Ask(endpoint.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(answer,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 11\r\n"
            "Connection: close\r\n\r\npcapml_x 1\n");
  char c;
  EXPECT_EQ(read(idle[0], &c, 1), 0);  // the longest waiting: closed to make room
  for (int fd : idle) close(fd);
  std::string head = Ask(endpoint.port(), "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 11\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\n\r\n") + 4, head.size()) << head;
  EXPECT_EQ(Ask(endpoint.port(), "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_EQ(Ask(endpoint.port(), "DELETE /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0), 0u);
  EXPECT_EQ(Ask(endpoint.port(), "hello\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
}

}  // namespace
}  // namespace pcapml
