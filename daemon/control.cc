#include "daemon/control.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <list>

#include "daemon/open_connections.h"

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace pcapml {
namespace {

constexpr size_t kMaxRequest = 4096;  // a request line, its '\n' included
// What one read may take in: the requests a client sent at once (pipelined)
// are answered together, in one trip to the packet thread for a run of adds.
constexpr size_t kMaxBuffer = 65536;

using Iterator = asio::buffers_iterator<asio::streambuf::const_buffers_type>;

// The end of the first line, or of its first kMaxRequest bytes when it is
// longer. Each search starts again at the line's beginning (begin), so the
// limit counts from there.
std::pair<Iterator, bool> LineEnd(Iterator begin, Iterator end) {
  Iterator limit = end - begin > static_cast<ptrdiff_t>(kMaxRequest) ? begin + kMaxRequest : end;
  Iterator nl = std::find(begin, limit, '\n');
  if (nl != limit) return {nl + 1, true};
  return {limit == end ? begin : limit, limit != end};
}

}  // namespace

struct ControlServer::Shared {
  explicit Shared(Handler h) : handler(std::move(h)) {}
  class Session;
  Handler handler;
  OpenConnections<Session> connections;
};

// One client connection: reads lines, answers each, under the deadlines of
// control.h. Closing it cancels its pending operations; their handlers see
// closed_ and do nothing.
class ControlServer::Shared::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream_protocol::socket socket, std::shared_ptr<Shared> shared)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buf_(kMaxBuffer),
        shared_(std::move(shared)),
        entry_(&shared_->connections) {}
  ~Session() { Close(""); }

  void Read() {
    entry_.StartWaiting(this);
    Arm(ControlServer::kRequestTimeout,
        "error no complete request within " + std::to_string(ControlServer::kRequestTimeout.count()) + " s: closing");
    auto self = shared_from_this();
    asio::async_read_until(socket_, buf_, LineEnd, [self](boost::system::error_code ec, size_t n) {
      if (self->closed_) return;
      self->entry_.StopWaiting();
      if (ec) return self->Close("");  // closed, possibly mid-message: nothing to answer
      if (asio::buffers_begin(self->buf_.data())[static_cast<ptrdiff_t>(n) - 1] != '\n')
        return self->Close("error request longer than " + std::to_string(kMaxRequest) + " bytes");
      std::vector<std::vector<std::string>> requests;
      do {
        requests.push_back(self->TakeLine(n));
      } while ((n = self->LineInBuffer()) > 0);  // an over-long one is for the next read
      self->Send(self->shared_->handler(requests));
    });
  }

  // Ends the connection; `why`, if any, is written first without waiting
  // (a client that does not read simply misses it).
  void Close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    entry_.Leave();
    boost::system::error_code ignored;
    timer_.cancel(ignored);
    if (!why.empty()) {
      std::string line = why + "\n";
      socket_.non_blocking(true, ignored);
      socket_.write_some(asio::buffer(line), ignored);
    }
    socket_.close(ignored);
  }

 private:
  // The length of the whole line at the front of buf_ ('\n' included), or 0.
  size_t LineInBuffer() const {
    auto [at, found] = LineEnd(asio::buffers_begin(buf_.data()), asio::buffers_end(buf_.data()));
    return found && at[-1] == '\n' ? static_cast<size_t>(at - asio::buffers_begin(buf_.data())) : 0;
  }

  std::vector<std::string> TakeLine(size_t n) {
    std::string line(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n - 1);
    buf_.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return SplitFields(line);
  }

  void Send(std::vector<std::string> lines) {
    out_.clear();
    for (const std::string& l : lines) out_ += l + "\n";
    Arm(ControlServer::kWriteTimeout, "");
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [self](boost::system::error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->Close("");
      self->Read();
    });
  }

  void Arm(std::chrono::seconds timeout, std::string why) {
    timer_.expires_after(timeout);
    std::weak_ptr<Session> weak = weak_from_this();
    timer_.async_wait([weak, why = std::move(why)](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->Close(why);
    });
  }

  stream_protocol::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buf_;
  std::string out_;
  std::shared_ptr<Shared> shared_;
  OpenConnections<Session>::Entry entry_;  // after shared_, which holds its set
  bool closed_ = false;
};

namespace {

// Connects to the Unix socket at path: success means a live daemon answers
// there; connection_refused, a stale socket nobody listens on.
boost::system::error_code Probe(const std::string& path) {
  asio::io_context io;
  stream_protocol::socket s(io);
  boost::system::error_code ec;
  s.connect(stream_protocol::endpoint(path), ec);
  return ec;
}

}  // namespace

std::vector<std::string> SplitFields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out;
}

ControlServer::ControlServer(asio::io_context& io, Handler handler)
    : io_(io), shared_(std::make_shared<Shared>(std::move(handler))) {}

ControlServer::~ControlServer() {
  if (!acceptor_) return;
  boost::system::error_code ec;
  acceptor_->close(ec);
  struct stat st;
  if (lstat(path_.c_str(), &st) == 0 && st.st_ino == inode_) unlink(path_.c_str());  // not another daemon's
}

bool ControlServer::Start(const std::string& path, std::string* err) {
  path_ = path;
  const std::string where = "control socket " + path + " ([control] socket)";
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return *err = where + ": a file that is not a socket is there; not replacing it", false;
    boost::system::error_code ec = Probe(path);
    if (!ec) return *err = where + ": another daemon answers on it; not taking it over", false;
    if (ec != asio::error::connection_refused) return *err = where + ": " + ec.message(), false;
    unlink(path.c_str());  // a stale socket: nobody listens on it any more
  }
  try {
    acceptor_ = std::make_unique<stream_protocol::acceptor>(io_, stream_protocol::endpoint(path));
  } catch (const std::exception& e) {
    *err = where + ": " + e.what();
    return false;
  }
  chmod(path.c_str(), 0660);
  if (lstat(path.c_str(), &st) == 0) inode_ = st.st_ino;
  Accept();
  return true;
}

void ControlServer::Accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (Shared::Session* longest = shared_->connections.LongestWaiting();
        !ec && shared_->connections.open() >= kMaxSessions && longest) {
      longest->Close("error closed: " + std::to_string(kMaxSessions) +
                     " control connections are open and this one waited longest for a request");
    }
    if (!ec && shared_->connections.open() >= kMaxSessions) {
      // Every connection is reading its answer. Refused with one line: a
      // blocking write of a few bytes into a fresh socket's buffer.
      boost::system::error_code ignored;
      asio::write(
          socket,
          asio::buffer("error too many control connections (" + std::to_string(kMaxSessions) + " open, all busy)\n"),
          ignored);
    } else if (!ec) {
      std::make_shared<Shared::Session>(std::move(socket), shared_)->Read();
    }
    Accept();
  });
}

}  // namespace pcapml
