#include "daemon/http_endpoint.h"

#include <thread>
#include <utility>  // before asio: Boost 1.74 needs std::exchange under C++20

#include <boost/asio.hpp>

#include "daemon/open_connections.h"

namespace asio = boost::asio;
using asio::ip::tcp;

namespace pcapml {
namespace {

using Iterator = asio::buffers_iterator<asio::streambuf::const_buffers_type>;

// The blank line ending a request head ("\r\n\r\n", or bare "\n\n").
std::pair<Iterator, bool> HeadEnd(Iterator begin, Iterator end) {
  for (Iterator i = begin; i != end; ++i) {
    if (*i != '\n') continue;
    Iterator j = i;
    if (++j != end && *j == '\r') ++j;
    if (j == end) return {i, false};  // the rest may still come: look here again
    if (*j == '\n') return {++j, true};
  }
  return {end, false};
}

std::string Response(const std::string& status, const std::string& headers, const std::string& body, bool head) {
  std::string out = "HTTP/1.1 " + status + "\r\n" + headers + "Content-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  if (!head) out += body;
  return out;
}

}  // namespace

bool ParseListenAddress(const std::string& text, std::string* address, uint16_t* port, std::string* err) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return *err = "expected ADDRESS:PORT (e.g. 127.0.0.1:9431 or [::1]:9431)", false;
  std::string host = text.substr(0, colon), digits = text.substr(colon + 1);
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  asio::ip::address a = asio::ip::make_address(host, ec);
  if (ec) return *err = "'" + host + "' is not an IP address", false;
  if (a.is_v6() != bracketed) return *err = "write an IPv6 address in brackets, e.g. [::1]:9431", false;
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(digits) > 65535)
    return *err = "port must be a number from 0 to 65535", false;
  *address = host;
  *port = static_cast<uint16_t>(std::stoul(digits));
  return true;
}

struct HttpEndpoint::Impl {
  class Connection;
  // What connections share with the endpoint; pending handlers outlive it
  // while the io_context is destroyed.
  struct Shared {
    Body body;
    OpenConnections<Connection> connections;
  };

  explicit Impl(Body body) : shared(std::make_shared<Shared>(Shared{std::move(body), {}})) {}
  void Accept();

  std::shared_ptr<Shared> shared;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};  // accepting again after running out of descriptors
  std::thread thread;
};

// One client: reads the request head, answers, closes. Closing cancels the
// pending operations; their handlers see closed_ and do nothing.
class HttpEndpoint::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buf_(kMaxRequest),
        shared_(std::move(shared)),
        entry_(&shared_->connections) {}
  ~Connection() { Close(); }

  void Start() {
    entry_.StartWaiting(this);
    Deadline(kRequestTimeout);
    auto self = shared_from_this();
    asio::async_read_until(socket_, buf_, HeadEnd, [self](boost::system::error_code ec, size_t n) {
      if (self->closed_) return;
      self->entry_.StopWaiting();
      if (ec == asio::error::not_found)
        return self->Send(Response("431 Request Header Fields Too Large", "", "request head too long\n", false));
      if (ec) return self->Close();
      std::string head(asio::buffers_begin(self->buf_.data()), asio::buffers_begin(self->buf_.data()) + n);
      self->Send(self->Answer(head));
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    entry_.Leave();
    boost::system::error_code ignored;
    timer_.cancel(ignored);
    socket_.close(ignored);
  }

 private:
  std::string Answer(const std::string& head) {
    std::string line = head.substr(0, head.find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp1 == sp2 || line.compare(sp2 + 1, 7, "HTTP/1.") != 0)
      return Response("400 Bad Request", "", "bad request\n", false);
    std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string path = target.substr(0, target.find('?'));
    if (path != "/metrics") return Response("404 Not Found", "", "the metrics are at /metrics\n", method == "HEAD");
    if (method != "GET" && method != "HEAD")
      return Response("405 Method Not Allowed", "Allow: GET, HEAD\r\n", "GET or HEAD only\n", false);
    return Response("200 OK", "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n", shared_->body(),
                    method == "HEAD");
  }

  void Send(std::string response) {
    out_ = std::move(response);
    Deadline(kWriteTimeout);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [self](boost::system::error_code, size_t) {
      if (self->closed_) return;
      boost::system::error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      self->Close();
    });
  }

  void Deadline(std::chrono::seconds timeout) {
    timer_.expires_after(timeout);
    std::weak_ptr<Connection> weak = weak_from_this();
    timer_.async_wait([weak](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->Close();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buf_;
  std::string out_;
  std::shared_ptr<Shared> shared_;
  OpenConnections<Connection>::Entry entry_;  // after shared_, which holds its set
  bool closed_ = false;
};

void HttpEndpoint::Impl::Accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
      // Out of descriptors: free one and try again shortly, not in a busy loop.
      if (Connection* longest = shared->connections.LongestWaiting()) longest->Close();
      retry.expires_after(std::chrono::milliseconds(50));
      retry.async_wait([this](boost::system::error_code e) {
        if (!e) Accept();
      });
      return;
    }
    if (!ec) {
      Connection* longest = shared->connections.LongestWaiting();
      if (shared->connections.open() >= kMaxConnections && longest) longest->Close();
      if (shared->connections.open() < kMaxConnections) {
        std::make_shared<Connection>(std::move(socket), shared)->Start();
      } else {  // every connection is reading its answer
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(Response("503 Service Unavailable", "", "too many connections\n", false)),
                          ignored);
      }
    }
    Accept();
  });
}

HttpEndpoint::HttpEndpoint(Body body) : impl_(std::make_unique<Impl>(std::move(body))) {}

HttpEndpoint::~HttpEndpoint() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool HttpEndpoint::Start(const std::string& listen, std::string* err) {
  std::string address;
  uint16_t port;
  if (!ParseListenAddress(listen, &address, &port, err)) return false;
  tcp::endpoint endpoint(asio::ip::make_address(address), port);
  boost::system::error_code ec;
  tcp::acceptor& a = impl_->acceptor;
  if (a.open(endpoint.protocol(), ec) || a.set_option(tcp::acceptor::reuse_address(true), ec) || a.bind(endpoint, ec) ||
      a.listen(asio::socket_base::max_listen_connections, ec))
    return *err = "cannot listen: " + ec.message(), false;
  port_ = a.local_endpoint(ec).port();
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

}  // namespace pcapml
