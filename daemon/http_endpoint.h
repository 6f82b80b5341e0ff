// The metrics endpoint: HTTP/1.x GET /metrics on its own thread, served by
// Boost.Asio without a thread per connection, so idle and slow clients
// cannot keep a scrape waiting (a civetweb worker each could: one silent
// connect blocked every scrape for 30 s). Per connection:
// - the request head must arrive whole within kRequestTimeout of the connect
//   and fit in kMaxRequest bytes (else it is closed, after a 431 when too long);
// - the answer must be read within kWriteTimeout;
// - every answer closes the connection (Connection: close).
// At most kMaxConnections are open; one more closes the one that has waited
// longest for its request, or, when all are busy reading answers, gets a 503.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace pcapml {

// Splits "ADDRESS:PORT" (an IPv4 address, or an IPv6 address in brackets;
// port 0 picks a free one). False, with *err saying why, otherwise.
bool ParseListenAddress(const std::string& text, std::string* address, uint16_t* port, std::string* err);

class HttpEndpoint {
 public:
  // Called on the endpoint's thread for each GET /metrics: the body to send.
  using Body = std::function<std::string()>;

  explicit HttpEndpoint(Body body);
  ~HttpEndpoint();  // closes every connection and joins the thread
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Binds ADDRESS:PORT and starts the thread.
  bool Start(const std::string& listen, std::string* err);
  int port() const { return port_; }

  static constexpr size_t kMaxConnections = 256;
  static constexpr size_t kMaxRequest = 8192;
  static constexpr std::chrono::seconds kRequestTimeout{10};
  static constexpr std::chrono::seconds kWriteTimeout{10};

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace pcapml
