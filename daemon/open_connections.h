// The connections of a server that no client can hold (the control socket,
// the metrics endpoint): how many are open, and which of them wait for a
// request, longest first, so a newcomer over the limit closes the one that
// has waited longest instead of being refused.
#pragma once

#include <cstddef>
#include <list>

namespace pcapml {

template <typename Connection>
class OpenConnections {
 public:
  // One connection's place in the set, kept by the connection.
  class Entry {
   public:
    explicit Entry(OpenConnections* set) : set_(set) { ++set_->open_; }
    ~Entry() { Leave(); }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

    // From now on c waits for its request (it may be evicted).
    void StartWaiting(Connection* c) {
      StopWaiting();
      waiting_ = set_->waiting_.insert(set_->waiting_.end(), c);
      is_waiting_ = true;
    }
    void StopWaiting() {
      if (!is_waiting_) return;
      set_->waiting_.erase(waiting_);
      is_waiting_ = false;
    }
    // The connection is closed: it no longer counts.
    void Leave() {
      if (left_) return;
      StopWaiting();
      --set_->open_;
      left_ = true;
    }

   private:
    OpenConnections* set_;
    typename std::list<Connection*>::iterator waiting_;  // in set_->waiting_ when is_waiting_
    bool is_waiting_ = false, left_ = false;
  };

  size_t open() const { return open_; }
  // The connection that has waited longest for its request, or null.
  Connection* LongestWaiting() const { return waiting_.empty() ? nullptr : waiting_.front(); }

 private:
  size_t open_ = 0;
  std::list<Connection*> waiting_;
};

}  // namespace pcapml
