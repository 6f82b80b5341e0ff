// The control socket: a Unix stream socket (mode 0660) taking one request per
// line, fields separated by tabs, answered with lines ending in "ok" or one
// "error <why>" line. The server carries requests; the requests themselves
// (add, end, list, status: parsing, doing, answering) are
// daemon/control_requests.h. `pcapml ctl` is its client. A field with a NUL byte or bytes that are not
// UTF-8 is refused. Requests are at most 4 KiB; anything else gets
// an error and the connection stays usable (or is closed when too long).
//
// No client can hold the socket: a connection must send a whole request line
// within kRequestTimeout of opening or of its previous answer, and read each
// answer within kWriteTimeout, or it is closed (idle and one-byte-a-second
// clients alike). At most kMaxSessions connections are open at once; one more
// closes the one that has waited longest for a request (it reads an error
// line saying so), or, when every connection is busy reading its answer, is
// itself refused with an error line.
//
// The socket path is claimed safely: Start refuses a path that holds anything
// but a socket, or a socket a live daemon answers on, and removes only a stale
// socket (nobody listening).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>  // before asio: Boost 1.74 needs std::exchange under C++20
#include <vector>

#include <boost/asio.hpp>

namespace pcapml {

class ControlServer {
 public:
  // Answers requests (each split into fields), in order, with the lines to
  // send back; each request's answer ends with "ok" or one "error ..." line.
  // The requests a client sent at once (as many whole lines as the 4 KiB
  // buffer holds) come together.
  using Handler = std::function<std::vector<std::string>(const std::vector<std::vector<std::string>>& requests)>;

  ControlServer(boost::asio::io_context& io, Handler handler);
  ~ControlServer();
  bool Start(const std::string& path, std::string* err);

  static constexpr size_t kMaxSessions = 64;
  static constexpr std::chrono::seconds kRequestTimeout{5};
  static constexpr std::chrono::seconds kWriteTimeout{5};

  // What sessions share with the server; pending handlers may outlive it.
  struct Shared;

 private:
  void Accept();
  std::string path_;
  ino_t inode_ = 0;  // of the socket bound at path_: removed at the end only if still ours
  boost::asio::io_context& io_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
};

// Splits a request line at tabs.
std::vector<std::string> SplitFields(const std::string& line);

}  // namespace pcapml
