#pragma once

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <ostream>
#include <streambuf>

namespace scaffold::cli {

// A buffered std::ostream onto a file descriptor it does not own, for the few writers that want
// a stream (CLI11's help and errors, a recording exported to standard output). scaffold does not
// use std::cout or std::cerr: see engine/no_iostream_init.h. A failed write (a closed pipe, a
// full disk) sets badbit, and everything after it is dropped.
class FdOstream : public std::ostream {
 public:
  explicit FdOstream(int fd) : std::ostream(nullptr), buf_(fd) { rdbuf(&buf_); }
  ~FdOstream() override { buf_.pubsync(); }

 private:
  class Buf : public std::streambuf {
   public:
    explicit Buf(int fd) : fd_(fd), data_(new char[kSize]) {
      setp(data_.get(), data_.get() + kSize);
    }

   protected:
    int_type overflow(int_type c) override {
      if (Drain() != 0) return traits_type::eof();
      if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
      return c;
    }
    int sync() override { return Drain(); }

   private:
    int Drain() {
      const char* p = pbase();
      while (!failed_ && p < pptr()) {
        ssize_t n = ::write(fd_, p, pptr() - p);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          failed_ = true;
        } else {
          p += n;
        }
      }
      setp(data_.get(), data_.get() + kSize);
      return failed_ ? -1 : 0;
    }

    // On the heap: a stream declared in a function, even one never reached, would otherwise
    // deepen its stack frame by the buffer's size.
    static constexpr size_t kSize = 16384;
    int fd_;
    bool failed_ = false;
    std::unique_ptr<char[]> data_;
  };

  Buf buf_;
};

}  // namespace scaffold::cli
