#include "daemon/control.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/text_file.h"
#include "base/units.h"

namespace asio = boost::asio;
using asio::local::stream_protocol;

namespace pcapml {
namespace {

constexpr size_t kMaxRequest = 4096;

// One client connection: reads lines, answers each. `live` counts the open ones.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream_protocol::socket socket, const ControlServer::Handler& handler, std::shared_ptr<size_t> live)
      : socket_(std::move(socket)), handler_(handler), buf_(kMaxRequest), live_(std::move(live)) {
    ++*live_;
  }
  ~Session() { --*live_; }

  void Read() {
    auto self = shared_from_this();
    asio::async_read_until(socket_, buf_, '\n', [self](boost::system::error_code ec, size_t n) {
      if (ec == asio::error::not_found) {  // no newline within the limit
        self->Send({"error request longer than 4096 bytes"}, false);
        return;
      }
      if (ec) return;  // closed, possibly mid-message: nothing to answer
      std::string line(asio::buffers_begin(self->buf_.data()), asio::buffers_begin(self->buf_.data()) + n - 1);
      self->buf_.consume(n);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      self->Send(self->handler_(SplitFields(line)), true);
    });
  }

 private:
  void Send(std::vector<std::string> lines, bool more) {
    out_.clear();
    for (const std::string& l : lines) out_ += l + "\n";
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [self, more](boost::system::error_code ec, size_t) {
      if (!ec && more) self->Read();
    });
  }

  stream_protocol::socket socket_;
  const ControlServer::Handler& handler_;
  asio::streambuf buf_;
  std::string out_;
  std::shared_ptr<size_t> live_;
};

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

bool ParseAddRequest(const std::vector<std::string>& fields, RuleSpec* spec, std::string* err) {
  std::string sample = "rule";
  for (size_t i = 1; i < fields.size(); ++i) {
    const std::string& field = fields[i];
    size_t eq = field.find('=');
    // Values reach comments, libpcap and the log: a NUL would cut them short, a comment is UTF-8.
    if (std::string problem = TextProblem(field); !problem.empty())
      return *err = "field " + Quoted(field) + " " + problem, false;
    std::string key = field.substr(0, eq), value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (key == "id") spec->id = value;
    else if (key == "label") spec->label = value;
    else if (key == "filter") spec->filter = value;
    else if (key == "sample") sample = value;
    else if (key == "window") {
      if (!ParseDuration(value, &spec->window_ns, err)) return false;
    } else if (key == "meta") {
      size_t e = value.find('=');
      if (e == std::string::npos) return *err = "meta must be key=value", false;
      spec->meta.emplace_back(value.substr(0, e), value.substr(e + 1));
    } else {
      return *err = "unknown field " + Quoted(key.substr(0, 40)), false;
    }
  }
  if (spec->id.empty() || spec->label.empty()) return *err = "add needs id= and label=", false;
  if (!ParseSampleMode(sample, &spec->sample)) return *err = "sample must be rule, flow or window", false;
  return true;
}

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
    if (!ec && *sessions_ >= kMaxSessions) {
      // Refused with one line; a blocking write of a few bytes into a fresh socket's buffer.
      boost::system::error_code ignored;
      asio::write(socket, asio::buffer(std::string("error too many control connections (") +
                                       std::to_string(kMaxSessions) + " open)\n"),
                  ignored);
    } else if (!ec) {
      std::make_shared<Session>(std::move(socket), handler_, sessions_)->Read();
    }
    Accept();
  });
}

}  // namespace pcapml
