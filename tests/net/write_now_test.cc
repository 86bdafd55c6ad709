// WriteNow: one non-blocking gathered send that leaves exactly the unwritten rest behind
// (net/server/write_now.h).
#include "net/server/write_now.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using boost::asio::const_buffer;
using scaffold::net::WriteNow;

namespace {

struct Pair {
  int fds[2];
  Pair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~Pair() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  std::string ReadAll(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = read(fds[1], out.data() + got, n - got);
      REQUIRE(r > 0);
      got += static_cast<size_t>(r);
    }
    return out;
  }
};

// Buffers over `parts`, which must outlive them.
std::vector<const_buffer> BuffersOver(const std::vector<std::string>& parts) {
  std::vector<const_buffer> buffers;
  for (const auto& s : parts) buffers.push_back(boost::asio::buffer(s));
  return buffers;
}

std::string Join(const std::vector<const_buffer>& buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

}  // namespace

TEST_CASE("a write the socket takes whole leaves nothing behind", "[server][write]") {
  Pair p;
  std::string a = "3\r\n", b = "abc", c = "\r\n";
  std::vector<const_buffer> buffers{boost::asio::buffer(a), boost::asio::buffer(b),
                                    boost::asio::buffer(c)};
  boost::system::error_code ec;
  CHECK(WriteNow(p.fds[0], buffers, ec) == 8);
  CHECK(!ec);
  CHECK(buffers.empty());
  CHECK(p.ReadAll(8) == "3\r\nabc\r\n");
}

TEST_CASE("a socket that takes part of a write leaves exactly the rest", "[server][write]") {
  Pair p;
  int small = 4096;
  REQUIRE(setsockopt(p.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  std::vector<std::string> parts;
  for (int i = 0; i < 40; ++i)
    parts.push_back(std::string(3000 + i, static_cast<char>('a' + i % 26)));
  std::vector<const_buffer> buffers = BuffersOver(parts);
  std::string all = Join(buffers);

  boost::system::error_code ec;
  size_t first = WriteNow(p.fds[0], buffers, ec);
  CHECK(!ec);
  CHECK(first > 0);
  CHECK(first < all.size());
  CHECK(Join(buffers) == all.substr(first));  // the rest, starting mid-buffer if need be

  // Full: what a second call takes (nothing, or what the buffer freed) is all that is gone.
  size_t again = WriteNow(p.fds[0], buffers, ec);
  CHECK(!ec);
  CHECK(Join(buffers) == all.substr(first + again));

  // The reader drains; what was written and what is left make up the whole, in order.
  std::string received = p.ReadAll(first + again);
  while (!buffers.empty()) {
    size_t n = WriteNow(p.fds[0], buffers, ec);
    REQUIRE(!ec);
    received += p.ReadAll(n);
  }
  CHECK(received == all);
}

TEST_CASE("more buffers than one call takes are written over several", "[server][write]") {
  Pair p;
  std::vector<std::string> parts;
  for (size_t i = 0; i < scaffold::net::kWriteNowMaxBuffers + 10; ++i)
    parts.push_back(std::to_string(i) + ",");
  std::vector<const_buffer> buffers = BuffersOver(parts);
  std::string all = Join(buffers);
  boost::system::error_code ec;
  size_t n = WriteNow(p.fds[0], buffers, ec);
  CHECK(!ec);
  CHECK(buffers.size() == 10);
  n += WriteNow(p.fds[0], buffers, ec);
  CHECK(buffers.empty());
  CHECK(p.ReadAll(n) == all);
}

TEST_CASE("a write to a closed peer is an error, without SIGPIPE", "[server][write]") {
  Pair p;
  close(p.fds[1]);
  p.fds[1] = -1;
  std::string a = "event";
  std::vector<const_buffer> buffers{boost::asio::buffer(a)};
  boost::system::error_code ec;
  CHECK(WriteNow(p.fds[0], buffers, ec) == 0);
  CHECK(ec == boost::system::errc::broken_pipe);
  CHECK(buffers.size() == 1);  // nothing taken
}
